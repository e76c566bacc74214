"""Tests for s2l/evaluation.py on a tiny pre-trained encoder."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import types

import gin
import numpy as np
import pytest
import tensorflow as tf

from s2l import evaluation as evaluate_lib
from s2l import run_directory
from s2l import run_record
from s2l import configurables
from s2l import training as train_lib

import tiny_run

ROOT = os.path.dirname(configurables.GIN_DIR)


def _probe_config(params=()):
  """The probe's own gin bindings, on a clean slate (the run's setting comes
  from its record)."""
  gin.clear_config()
  configurables.parse_gin([], list(params))


@pytest.fixture(name="run_dir", scope="module")
def _run_dir(tmp_path_factory):
  """A finished tiny pre-training run on the tiny synthetic notes."""
  run = tmp_path_factory.mktemp("run")
  data_dir = tmp_path_factory.mktemp("tfds")
  gin.clear_config()
  tiny_run.parse_tiny_run(data_dir)
  train_lib.train(str(run))
  gin.clear_config()
  return str(run)


def test_probe_writes_results_and_keeps_the_encoder_frozen(run_dir):
  encoder_dir = os.path.join(run_dir, run_directory.ENCODER_DIR)
  before = tf.keras.models.load_model(encoder_dir).get_weights()
  # One classification and one regression task (each source's every task is
  # the default: test_every_task_of_the_source_by_default). The supervised
  # baseline, end to end, is covered by the interruption and report tests.
  _probe_config([
      "evaluate.num_examples = (8, 16)", "evaluate.seeds = (0, 1)",
      "evaluate.epochs = 2",
      "evaluate.tasks = ('instrument_family', 'pitch')",
      "evaluate.baselines = ('pretrained', 'random')"])
  output = evaluate_lib.evaluate(run_dir)
  with open(os.path.join(run_dir, evaluate_lib.RESULTS_FILE)) as f:
    assert json.load(f) == output
  assert output["source"] == "synthetic_notes_tiny" and output["head"] == "mlp"
  results = output["results"]
  assert set(results) == {"instrument_family", "pitch"}
  family = results["instrument_family"]
  assert set(family) == {"pretrained", "random"}
  for regime in ("8", "16"):
    cell = family["pretrained"][regime]
    assert cell["metric"] == "accuracy" and len(cell["values"]) == 2
    assert 0.0 <= cell["mean"] <= 1.0
    assert cell["mean"] == pytest.approx(np.mean(cell["values"]))
  # The random baseline is the run's own initialisation, and both encoders'
  # collapse diagnostics are recorded.
  assert output["random_baseline"] == "run initialisation"
  assert output["labelled_subsets"] == "stratified"
  for name in ("pretrained", "random"):
    numbers = output["representation"][name]
    assert numbers["units"] == round(128 * 0.03)
    assert 0.0 <= numbers["dead_fraction"] <= 1.0
  with pytest.raises(ValueError, match="asks for 100000 labelled examples"):
    evaluate_lib.evaluate(run_dir, num_examples=(100000,))
  assert results["pitch"]["random"]["16"]["metric"] == "mse"
  # What the report needs to lay the run out: its pretext and upstream.
  assert output["pretraining"] == {
      "source": "synthetic_notes_tiny", "loss": "PerturbedFenchelYoungLoss",
      "loss_label": "Perturbed F-Y", "loss_column": 2,
      "permutation_set": None,
      "slicing": {"nx": 1, "ny": 10}, "frames": None, "train_steps": 10,
      "learning_rate": 1e-5, "seed": 0, "train_examples": None,
      "width": 0.03}
  upstream = output["upstream"]
  assert upstream["step"] == 10
  assert 0.0 <= upstream["exact_permutation"] <= upstream["partial_ranks"]
  assert upstream["partial_ranks"] <= 1.0
  after = tf.keras.models.load_model(encoder_dir).get_weights()
  for old, new in zip(before, after):
    np.testing.assert_array_equal(old, new)


def test_every_task_of_the_source_by_default():
  source = types.SimpleNamespace(name="notes", tasks={"family": 0, "pitch": 1})
  assert evaluate_lib._checked_tasks(source, None) == ["family", "pitch"]  # pylint: disable=protected-access
  assert evaluate_lib._checked_tasks(source, ("pitch",)) == ["pitch"]  # pylint: disable=protected-access
  with pytest.raises(ValueError, match="has tasks"):
    evaluate_lib._checked_tasks(source, ("loudness",))  # pylint: disable=protected-access


@pytest.mark.slow  # ~20 s; `make test-all` runs it.
def test_a_bfloat16_run_is_probed_on_float32_embeddings(tmp_path,
                                                         monkeypatch):
  tiny_run.parse_tiny_run(tmp_path / "tfds",
                          "train.precision = 'mixed_bfloat16'")
  train_lib.train(str(tmp_path / "run"))
  dtypes = []
  original_embed = evaluate_lib.probe.embed

  def embed(encoder, dataset):
    embeddings, labels = original_embed(encoder, dataset)
    dtypes.append(embeddings.dtype)
    return embeddings, labels

  monkeypatch.setattr(evaluate_lib.probe, "embed", embed)
  _probe_config([
      "evaluate.num_examples = (8,)", "evaluate.seeds = (0,)",
      "evaluate.epochs = 2", "evaluate.supervised_epochs = 1",
      "evaluate.tasks = ('instrument_family',)",
      "evaluate.baselines = ('pretrained', 'random', 'supervised')"])
  output = evaluate_lib.evaluate(str(tmp_path / "run"))
  # Two encoders on two splits, then the supervised model on the test split.
  assert dtypes == [np.float32] * 5
  cells = output["results"]["instrument_family"]
  assert set(cells) == {"pretrained", "random", "supervised"}
  for cell in cells.values():
    assert 0 <= cell["8"]["mean"] <= 1
  for numbers in output["representation"].values():
    assert np.isfinite(numbers["effective_dimension"])
  assert tf.keras.mixed_precision.global_policy().name == "float32"


def test_output_path_and_upstream_metrics(run_dir, tmp_path):
  _probe_config([
      "evaluate.num_examples = (8,)", "evaluate.seeds = (0,)",
      "evaluate.epochs = 1", "evaluate.tasks = ('pitch',)",
      "evaluate.baselines = ('pretrained',)",
      f"evaluate.output = '{tmp_path}/table1/run.json'"])
  output = evaluate_lib.evaluate(run_dir)
  with open(tmp_path / "table1" / "run.json") as f:
    assert json.load(f) == output
  assert list(output["results"]) == ["pitch"]
  # The upstream metrics are the last held-out values TensorBoard shows.
  events = tf.io.gfile.glob(os.path.join(run_dir, "validation", "events*"))
  logged = {}
  for event in tf.compat.v1.train.summary_iterator(events[0]):
    for value in event.summary.value:
      logged[value.tag] = float(tf.make_ndarray(value.tensor))
  assert output["upstream"]["partial_ranks"] == pytest.approx(
      logged["epoch_partial_ranks"])
  assert evaluate_lib.upstream_metrics(str(tmp_path), 10) == {}


def test_encoders_of_earlier_steps_are_exported_and_probed(tmp_path_factory):
  run = str(tmp_path_factory.mktemp("steps_run"))
  data_dir = tmp_path_factory.mktemp("tfds")
  gin.clear_config()
  tiny_run.parse_tiny_run(data_dir, "train.train_steps = 20",
                          "train.export_steps = (10,)")
  train_lib.train(run)
  assert run_directory.exported_steps(run) == [10]
  _probe_config(["evaluate.num_examples = (8,)", "evaluate.seeds = (0,)",
                 "evaluate.epochs = 1", "evaluate.tasks = ('pitch',)"])
  probes = {step: evaluate_lib.evaluate(
      run, encoder_step=step, output=f"{run}/probe{step}.json")
            for step in (10, None)}
  # Each probe reads its own encoder, and the pretext metrics of its step.
  assert [probes[s]["encoder_step"] for s in (10, None)] == [10, 20]
  assert [probes[s]["upstream"]["step"] for s in (10, None)] == [10, 20]
  pretrained = [probes[s]["results"]["pitch"]["pretrained"]["8"]["mean"]
                for s in (10, None)]
  assert pretrained[0] != pretrained[1]
  # The random baseline is the same initial weights whatever the step.
  randoms = {probes[s]["results"]["pitch"]["random"]["8"]["mean"]
             for s in (10, None)}
  assert len(randoms) == 1
  with pytest.raises(FileNotFoundError, match=r"no encoder at step 15 .*"
                     r"\[10\]"):
    evaluate_lib.evaluate(run, encoder_step=15)
  with pytest.raises(ValueError, match="encoder_step must be None or a "
                     "positive step"):
    evaluate_lib.evaluate(run, encoder_step=0)
  # Lengthened, the run keeps its former last encoder as an earlier step's.
  last = tf.keras.models.load_model(
      os.path.join(run, run_directory.ENCODER_DIR), compile=False)
  gin.clear_config()
  tiny_run.parse_tiny_run(data_dir, "train.train_steps = 30",
                          "train.export_steps = (10, 20)")
  train_lib.train(run)
  assert run_directory.exported_steps(run) == [10, 20]
  kept = tf.keras.models.load_model(run_directory.step_encoder_dir(run, 20),
                                    compile=False)
  assert all(np.array_equal(a, b) for a, b in zip(last.get_weights(),
                                                  kept.get_weights()))
  assert run_record.read(run)["encoder_step"] == 30
  gin.clear_config()


def test_the_exported_encoder_stands_for_its_run(run_dir, tmp_path):
  encoder = os.path.join(run_dir, run_directory.ENCODER_DIR)
  assert evaluate_lib.run_dir(encoder) == run_dir
  assert evaluate_lib.run_dir(encoder + "/") == run_dir
  assert evaluate_lib.run_dir(run_dir) == run_dir
  assert evaluate_lib.run_dir(str(tmp_path)) == str(tmp_path)


def test_errors_say_what_to_do(run_dir, tmp_path):
  _probe_config()
  with pytest.raises(FileNotFoundError, match="no exported encoder"):
    evaluate_lib.evaluate(str(tmp_path))
  with pytest.raises(ValueError, match="baselines must be among"):
    evaluate_lib.evaluate(run_dir, baselines=("pretrained", "fixed"))
  (tmp_path / run_directory.ENCODER_DIR).mkdir()
  with pytest.raises(run_record.RecordError, match="written by s2l.train"):
    evaluate_lib.evaluate(str(tmp_path))
  (tmp_path / run_record.RECORD_FILE).write_text("{not json")
  with pytest.raises(run_record.RecordError, match="not valid JSON"):
    evaluate_lib.evaluate(str(tmp_path))
  # An encoder older than the run's steps (a resumed run that stopped or
  # diverged) is not probed as if it were the run's.
  record = run_record.read(run_dir)
  assert record["encoder_step"] == record["train_steps"] == 10
  run_record.write(str(tmp_path), {**record, "train_steps": 20})
  with pytest.raises(run_record.RecordError,
                     match="exported at step 10, but the run is set for 20"):
    evaluate_lib.evaluate(str(tmp_path))


def test_probes_scored_on_the_validation_split_for_selection(run_dir,
                                                            tmp_path):
  _probe_config()
  kwargs = dict(num_examples=(8,), seeds=(0,), epochs=2,
                baselines=("pretrained",), tasks=("pitch",))
  test = evaluate_lib.evaluate(run_dir, output=str(tmp_path / "t.json"),
                               **kwargs)
  validation = evaluate_lib.evaluate(
      run_dir, score_split="validation", output=str(tmp_path / "v.json"),
      **kwargs)
  assert (test["test_split"], validation["test_split"]) == ("test",
                                                           "validation")
  # The same head (seed, labelled examples) scored on other notes.
  assert (test["results"]["pitch"]["pretrained"]["8"]["mean"] !=
          validation["results"]["pitch"]["pretrained"]["8"]["mean"])
  # A source whose validation split is its test set has nothing to select on.
  voc_like = types.SimpleNamespace(name="voc", splits={"train": "t",
                                                       "validation": "v"})
  assert evaluate_lib.scored_split(voc_like, None) == "validation"
  with pytest.raises(ValueError, match="validation split is its test set"):
    evaluate_lib.scored_split(voc_like, "validation")


def test_heads_chosen_on_the_validation_split_are_scored_on_test(run_dir,
                                                                 tmp_path):
  _probe_config()
  kwargs = dict(num_examples=(8,), seeds=(0, 1), epochs=7,
                baselines=("pretrained", "random"), tasks=("pitch",))
  last = evaluate_lib.evaluate(run_dir, output=str(tmp_path / "l.json"),
                               **kwargs)
  chosen = evaluate_lib.evaluate(run_dir, head_epoch="validation",
                                 output=str(tmp_path / "c.json"), **kwargs)
  assert (last["head_epoch"], chosen["head_epoch"]) == ("last", "validation")
  assert chosen["test_split"] == "test"
  for baseline in ("pretrained", "random"):
    cell = chosen["results"]["pitch"][baseline]["8"]
    # One kept epoch per seed, among those checked (every 5th and the last).
    assert len(cell["head_epochs"]) == 2
    assert set(cell["head_epochs"]) <= {5, 7}
    assert "head_epochs" not in last["results"]["pitch"][baseline]["8"]
    # A head kept at its last epoch is the same head either way.
    for seed, epoch in enumerate(cell["head_epochs"]):
      if epoch == 7:
        assert cell["values"][seed] == pytest.approx(
            last["results"]["pitch"][baseline]["8"]["values"][seed],
            rel=1e-4)
  # The validation split may not both choose the epoch and score the head.
  with pytest.raises(ValueError, match="may not both choose and score"):
    evaluate_lib.evaluate(run_dir, head_epoch="validation",
                          score_split="validation",
                          output=str(tmp_path / "v.json"), **kwargs)


def test_an_interrupted_evaluation_keeps_its_finished_cells(run_dir,
                                                            tmp_path):
  output = tmp_path / "probe.json"
  params = ["evaluate.num_examples = (8,)", "evaluate.seeds = (0, 1, 2)",
            "evaluate.epochs = 10", "evaluate.tasks = ('pitch', 'instrument')",
            "evaluate.baselines = ('pretrained', 'random')",
            f"evaluate.output = '{output}'"]
  cells_file = tmp_path / ("probe.json" + evaluate_lib.CELLS_SUFFIX)
  process = subprocess.Popen(
      [sys.executable, "-m", "s2l.evaluate", f"--model_dir={run_dir}",
       *(f"--gin_param={p}" for p in params)],
      env=dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="2"),
      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
  deadline = time.time() + 300
  # The header, both encoders' diagnostics and two probe cells.
  while not (cells_file.exists() and
             len(cells_file.read_text().splitlines()) >= 5):
    assert process.poll() is None, process.stderr.read().decode()[-2000:]
    assert time.time() < deadline
    time.sleep(0.05)
  process.send_signal(signal.SIGTERM)
  process.wait(timeout=60)
  assert not output.exists()
  kept = len(cells_file.read_text().splitlines()) - 1
  total = 2 + 2 * 2 * 1 * 3  # Diagnostics, tasks × baselines × sizes × seeds.
  assert 4 <= kept < total
  _probe_config(params)
  resumed = evaluate_lib.evaluate(run_dir)
  assert resumed["cells_reused"] >= kept - 1  # The last may be torn.
  assert resumed["encoder_step"] == 10
  for by_baseline in resumed["results"].values():
    for by_regime in by_baseline.values():
      assert [len(c["values"]) for c in by_regime.values()] == [3]
  # A second rerun probes nothing and gives the same results.
  again = evaluate_lib.evaluate(run_dir)
  assert again["cells_reused"] == total
  assert again["results"] == resumed["results"]
  # Other probe settings reuse nothing (tests/test_cells.py).


def test_raw_labels_follow_the_pipeline_order(run_dir):
  # evaluate() pairs one pass of embeddings with each task's raw labels.
  record = run_record.read(run_dir)
  setting = {"slicing": run_record.build(record["slicing"]),
             "frontend": run_record.build(record["frontend"]),
             "data_dir": record["data_dir"]}.get
  source = run_record.build_source(record["source"])
  for task_name, task in source.tasks.items():
    ds = evaluate_lib.pipeline.downstream_dataset(
        source, "train", task_name, slicing=setting("slicing"),
        frontend=setting("frontend"), data_dir=setting("data_dir"),
        num_examples=20, batch_size=7)
    expected = np.concatenate([y.numpy() for _, y in ds])
    got = evaluate_lib.task_labels(source, "train", task, 20,
                                   setting("data_dir"))
    np.testing.assert_array_equal(got, expected)


@pytest.mark.slow  # ~19 s each; `make test-all` runs them.
@pytest.mark.parametrize("config, source, params, metrics", [
    ("synthetic_video_frames20.gin", "synthetic_video_tiny",
     ["VideoFrontend.num_frames = 6", "VideoFrontend.size = 16"],
     ["accuracy"]),
    ("synthetic_images_grid3x3.gin", "synthetic_images_tiny",
     ["ImageFrontend.size = 48"], ["mean_auc", "micro_auc"]),
])
def test_video_and_images_train_and_probe_end_to_end(
    config, source, params, metrics, tmp_path_factory):
  """Each modality trains and probes from the same entry points."""
  run = str(tmp_path_factory.mktemp("run"))
  data_dir = str(tmp_path_factory.mktemp("tfds"))
  gin.clear_config()
  configurables.parse_gin(
      [os.path.join(configurables.GIN_DIR, config)],
      ["train.width = 0.03", "train.depth = 2", "train.embedding_size = 64",
       "train.batch_size = 4", "train.eval_batches = 1",
       "train.train_steps = 4", "train.steps_per_checkpoint = 4",
       f"train.source = '{source}'", f"train.data_dir = '{data_dir}'",
       *params])
  train_lib.train(run)
  gin.clear_config()
  _probe_config([
      "evaluate.num_examples = (8, 16)", "evaluate.seeds = (0, 1)",
      "evaluate.epochs = 2", "evaluate.supervised_epochs = 1",
      "evaluate.baselines = ('pretrained', 'random', 'supervised')"])
  output = evaluate_lib.evaluate(run)
  gin.clear_config()
  assert output["head"] == ("linear" if "images" in source else "mlp")
  ((task, by_baseline),) = output["results"].items()
  assert set(by_baseline) == {"pretrained", "random", "supervised"}
  for by_regime in by_baseline.values():
    assert set(by_regime) == {"8", "16"}
    for cell in by_regime.values():
      assert [cell["metric"], *cell.get("also", {})] == metrics
      assert len(cell["values"]) == 2
      for value in [cell["mean"], *(m["mean"] for m in cell.get(
          "also", {}).values())]:
        assert 0.0 <= value <= 1.0
  assert output["pretraining"]["source"] == source
  assert (output["pretraining"]["slicing"] is None) == ("video" in source)
  # Video's patches are its frames (VideoFrontend.num_frames = 6 here).
  assert output["pretraining"]["frames"] == (6 if "video" in source else None)
  assert 0.0 <= output["upstream"]["partial_ranks"] <= 1.0
  assert task in ("label", "labels")


def test_random_baseline_is_the_runs_initial_encoder(run_dir):
  init = tf.keras.models.load_model(
      os.path.join(run_dir, run_directory.INIT_ENCODER_DIR), compile=False)
  trained = tf.keras.models.load_model(
      os.path.join(run_dir, run_directory.ENCODER_DIR), compile=False)
  encoder, origin = evaluate_lib.random_encoder(run_dir, trained)
  assert origin == "run initialisation" and not encoder.trainable
  for a, b, c in zip(encoder.get_weights(), init.get_weights(),
                     trained.get_weights()):
    np.testing.assert_array_equal(a, b)
  # Ten steps at 3e-3 moved the weights away from their initialisation.
  assert any(not np.allclose(b, c) for b, c in zip(init.get_weights(),
                                                   trained.get_weights()))


def test_the_patch_features_layer_is_probed_for_both_encoders(run_dir,
                                                              tmp_path):
  """evaluate.layer: the heads read fc6 of every patch instead of the
  embedding, of the pre-trained and of the random encoder alike."""
  common = ["evaluate.num_examples = (8,)", "evaluate.seeds = (0,)",
            "evaluate.epochs = 1", "evaluate.tasks = ('pitch',)"]
  outputs, reused = {}, []
  # One output file: the cells of one layer are not reused for the other,
  # and are for the same layer again.
  for layer in ("embedding", "patch_features", "patch_features"):
    _probe_config(common + [f"evaluate.layer = '{layer}'",
                            f"evaluate.output = '{tmp_path}/probe.json'"])
    outputs[layer] = evaluate_lib.evaluate(run_dir)
    reused.append(outputs[layer]["cells_reused"])
  assert reused[:2] == [0, 0] and reused[2] > 0
  embedding = outputs["embedding"]["representation"]
  features = outputs["patch_features"]["representation"]
  assert outputs["patch_features"]["layer"] == "patch_features"
  # The tiny CFN at width 0.03: round(128 * 0.03) = 4 embedding units, and
  # round(512 * 0.03) = 15 fc6 units for each of the 10 bands.
  assert embedding["pretrained"]["units"] == 4
  assert features["pretrained"]["units"] == features["random"]["units"] == 150
  assert features["pretrained"] != features["random"]
  assert outputs["embedding"]["results"] != outputs["patch_features"][
      "results"]


def test_subsets_select_exactly_their_examples(run_dir):
  record = run_record.read(run_dir)
  setting = {"slicing": run_record.build(record["slicing"]),
             "frontend": run_record.build(record["frontend"]),
             "data_dir": record["data_dir"]}.get
  source = run_record.build_source(record["source"])
  task = source.tasks["pitch"]
  pool = evaluate_lib.task_labels(source, "train", task, None,
                                  setting("data_dir"))
  indices = [0, 3, 4, 11]
  ds = evaluate_lib.pipeline.downstream_dataset(
      source, "train", "pitch", slicing=setting("slicing"),
      frontend=setting("frontend"), data_dir=setting("data_dir"),
      indices=indices, batch_size=3)
  got = np.concatenate([y.numpy() for _, y in ds])
  np.testing.assert_array_equal(got, pool[indices])


@pytest.mark.parametrize("knob, message", [
    (dict(num_examples=(0,)), "num_examples must be a non-empty tuple of "
     "positive integers, got (0,)"),
    (dict(num_examples=1000), "num_examples must be a non-empty tuple"),
    (dict(seeds=()), "seeds must be a non-empty tuple"),
    (dict(epochs=0), "epochs must be a positive integer, got 0"),
    (dict(learning_rate="1e-3"), "learning_rate must be a positive number"),
    (dict(labelled_pool=-5), "labelled_pool must be a positive integer or "
     "None"),
    (dict(labelled_subsets="random"), "labelled_subsets must be one of"),
    (dict(score_split="train"), "score_split must be None or one of "
     "('test', 'validation'), got 'train'"),
    (dict(layer="scores"), "layer must be one of ['embedding', "
     "'patch_features'], got 'scores'"),
    (dict(head_epoch="best"), "head_epoch must be one of ('last', "
     "'validation'), got 'best'"),
])
def test_bad_probe_knobs_are_refused_before_anything_is_read(knob, message,
                                                             tmp_path):
  with pytest.raises(ValueError, match=re.escape(message)):
    evaluate_lib.evaluate(str(tmp_path), **knob)
