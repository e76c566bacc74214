"""Tests for s2l/run_directory.py: a run's layout, checkpoints and encoders."""

import json
import os
import shutil
import subprocess
import sys

import gin
import numpy as np
import tensorflow as tf

from s2l import configurables
from s2l import evaluation
from s2l import report
from s2l import run_directory
from s2l import run_record
from s2l import training
from s2l.models import cfn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _network():
  tf.keras.utils.set_random_seed(0)
  return cfn.context_free_network(4, (8, 8, 1), 4, width=0.03, depth=1,
                                  embedding_size=64)


def test_a_state_file_naming_another_checkpoint_is_rebuilt(tmp_path):
  # The case: `checkpoint` naming `model.ckpt` (no step in the name).
  step = tf.Variable(0)
  manager = tf.train.CheckpointManager(tf.train.Checkpoint(step=step),
                                       str(tmp_path), max_to_keep=5)
  for number in (10, 20):
    step.assign(number)
    manager.save(checkpoint_number=number)
  (tmp_path / "checkpoint").write_text(
      'model_checkpoint_path: "model.ckpt"\n'
      'all_model_checkpoint_paths: "model.ckpt"\n')
  assert run_directory.readable_checkpoint(str(tmp_path)).endswith("ckpt-20")
  assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-20")
  state = tf.train.get_checkpoint_state(str(tmp_path))
  assert [p.rsplit("-", 1)[1] for p in state.all_model_checkpoint_paths
          ] == ["10", "20"]


def test_a_garbled_state_file_naming_nothing_is_removed(tmp_path):
  (tmp_path / "checkpoint").write_text('model_checkpoint_path: "gone"\n')
  assert run_directory.readable_checkpoint(str(tmp_path)) is None
  assert not (tmp_path / "checkpoint").exists()
  assert run_directory.checkpoint_step("/x/checkpoints/ckpt-1331") == 1331


def test_encoders_are_exported_and_their_step_recorded(tmp_path):
  network = _network()
  record = {"train_steps": 10}
  assert run_directory.encoder_step(str(tmp_path)) is None
  assert not run_directory.has_initial_encoder(str(tmp_path))
  run_directory.export_initial_encoder(network, str(tmp_path))
  assert run_directory.has_initial_encoder(str(tmp_path))
  run_directory.export_encoder(network, str(tmp_path), record, 10)
  assert run_directory.encoder_step(str(tmp_path)) == 10
  assert run_record.read(str(tmp_path))["encoder_step"] == 10
  # Both are the embedding of the same weights here: the same features.
  patches = np.random.default_rng(0).random((2, 4, 8, 8, 1), np.float32)
  init, trained = (tf.keras.models.load_model(
      str(tmp_path / name), compile=False)(patches).numpy()
                   for name in (run_directory.INIT_ENCODER_DIR,
                                run_directory.ENCODER_DIR))
  np.testing.assert_allclose(init, trained, rtol=1e-6)
  # The exported encoder's folder leads back to its run; anything else is
  # its own run.
  encoder = str(tmp_path / run_directory.ENCODER_DIR)
  assert run_directory.run_of(encoder + "/") == str(tmp_path)
  assert run_directory.run_of(str(tmp_path)) == str(tmp_path)
  os.remove(tmp_path / run_record.RECORD_FILE)
  assert run_directory.run_of(encoder) == encoder
  assert run_directory.encoder_step(str(tmp_path)) is None


def test_an_earlier_step_is_exported_whole_or_not_at_all(tmp_path):
  network = _network()
  run = str(tmp_path)
  assert run_directory.exported_steps(run) == []
  # A writer stopped mid-export left a partial folder: not a step, and
  # replaced by the next export of that step.
  partial = run_directory.step_encoder_dir(run, 200) + ".partial"
  os.makedirs(partial)
  open(os.path.join(partial, "saved_model.pb"), "w").close()
  assert run_directory.exported_steps(run) == []
  path = run_directory.export_encoder_at(network, run, 200)
  assert path == run_directory.step_encoder_dir(run, 200)
  assert not os.path.exists(partial)
  assert run_directory.exported_steps(run) == [200]
  before = tf.keras.models.load_model(path, compile=False).get_weights()
  # A replayed step (a resumed run) keeps the first export.
  network.set_weights([w + 1.0 for w in network.get_weights()])
  run_directory.export_encoder_at(network, run, 200)
  run_directory.export_encoder_at(network, run, 1000)
  after = tf.keras.models.load_model(path, compile=False).get_weights()
  assert all(np.array_equal(a, b) for a, b in zip(before, after))
  assert run_directory.exported_steps(run) == [200, 1000]


def test_evaluation_does_not_import_training():
  code = ("import sys, s2l.evaluation; "
          "print(sorted(m for m in sys.modules if m.startswith('s2l.')))")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, check=True, cwd=ROOT,
                       env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
  loaded = json.loads(out.stdout.strip().replace("'", '"'))
  assert "s2l.run_directory" in loaded
  assert "s2l.training" not in loaded and "s2l.callbacks" not in loaded


# A run directory and its probe.json as s2l wrote them at commit 9050200
# (before the loss registry, the modality objects and s2l/datasets/): 10
# steps on the tiny synthetic notes, probed at 8 labels, seed 0.
FIXTURE = os.path.join(ROOT, "tests", "data", "run_9050200")
_TINY = ["train.width = 0.03", "train.depth = 2", "train.embedding_size = 64",
         "train.batch_size = 8", "train.eval_batches = 1",
         "train.log_every = 5", "train.source = 'synthetic_notes_tiny'",
         "AudioFrontend.frame_step = 512", "train.learning_rate = 3e-3",
         "train.train_steps = 10", "train.steps_per_checkpoint = 5"]


def test_a_run_written_by_an_earlier_version_resumes_probes_and_reports(
    tmp_path):
  run = tmp_path / "run"
  shutil.copytree(FIXTURE, run)
  data_dir = str(tmp_path / "tfds")
  # Its config today builds the same record: the run is complete.
  configurables.parse_gin(
      [os.path.join(configurables.GIN_DIR, "synthetic_notes_freq10.gin")],
      _TINY + [f"train.data_dir = '{data_dir}'"])
  assert not training.train(str(run)).epoch
  gin.clear_config()
  # Probed again as it was, it scores what it scored then.
  configurables.parse_gin([], [
      "evaluate.num_examples = (8,)", "evaluate.seeds = (0,)",
      "evaluate.epochs = 2",
      "evaluate.tasks = ('instrument_family', 'pitch')",
      "evaluate.baselines = ('pretrained', 'random')"])
  output = evaluation.evaluate(str(run), data_dir=data_dir,
                               output=str(tmp_path / "again.json"))
  gin.clear_config()
  with open(os.path.join(FIXTURE, "probe.json")) as f:
    before = json.load(f)
  for task, baselines in before["results"].items():
    for baseline, cells in baselines.items():
      np.testing.assert_allclose(
          output["results"][task][baseline]["8"]["values"],
          cells["8"]["values"], rtol=1e-4, err_msg=f"{task} {baseline}")
  assert output["pretraining"]["loss_label"] == "Perturbed F-Y"
  # Its probe.json, written before labels were, still reports.
  folder = tmp_path / "results" / "table1"
  folder.mkdir(parents=True)
  shutil.copy(os.path.join(FIXTURE, "probe.json"), folder / "pfy.json")
  written = report.render(str(folder))
  assert "Perturbed F-Y" in open(written[0]).read()
