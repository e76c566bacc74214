"""Tests for s2l/training.py and the s2l.train command: end-to-end runs on tiny embedded data."""

import glob
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import gin
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from s2l import evaluation as evaluate_lib
from s2l import locks
from s2l import losses
from s2l import run_directory
from s2l import run_record
from s2l import configurables
from s2l import training as train_lib
from s2l.data import pipeline
from s2l.models import cfn

GIN_DIR = configurables.GIN_DIR
ROOT = os.path.dirname(GIN_DIR)
# Runnable configs.
TOP_LEVEL = sorted(glob.glob(os.path.join(GIN_DIR, "*.gin")))
TINY = {"synthetic_notes": "synthetic_notes_tiny",
        "soundfont_notes": "soundfont_notes_tiny",
        "synthetic_video": "synthetic_video_tiny",
        "synthetic_images": "synthetic_images_tiny"}
SMALL_MODEL = ["train.width = 0.03", "train.depth = 2",
               "train.embedding_size = 256", "train.batch_size = 8",
               "train.eval_batches = 1", "train.log_every = 5"]


@pytest.fixture(name="data_dir", scope="module")
def _data_dir(tmp_path_factory):
  return str(tmp_path_factory.mktemp("tfds"))


def _tiny_notes(data_dir, *extra, files=()):
  configurables.parse_gin(
      [os.path.join(GIN_DIR, "synthetic_notes_freq10.gin"), *files],
      SMALL_MODEL + [f"train.data_dir = '{data_dir}'",
                     "train.source = 'synthetic_notes_tiny'",
                     "AudioFrontend.frame_step = 512",
                     "train.learning_rate = 3e-3", *extra])


def test_end_to_end_run_writes_everything_and_learns(tmp_path, data_dir):
  _tiny_notes(data_dir, "train.train_steps = 60",
              "train.steps_per_checkpoint = 20")
  history = train_lib.train(str(tmp_path))
  losses = history.history["loss"]
  assert len(losses) == 3 and losses[-1] < losses[0]
  assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")).endswith(
      "ckpt-60")
  assert glob.glob(str(tmp_path / "train" / "events.out.tfevents.*"))
  assert glob.glob(str(tmp_path / "validation" / "events.out.tfevents.*"))
  config = (tmp_path / "operative_config.gin").read_text()
  assert "train.source = 'synthetic_notes_tiny'" in config
  # The untrained encoder is kept for the probes' random baseline.
  assert (tmp_path / run_directory.INIT_ENCODER_DIR / "saved_model.pb").exists()
  tags = set()
  for path in glob.glob(str(tmp_path / "train" / "events.out.tfevents.*")):
    for event in tf.compat.v1.train.summary_iterator(path):
      tags.update(v.tag for v in event.summary.value)
  assert {"collapse/embedding_dead_fraction",
          "collapse/embedding_effective_dimension"} <= tags
  assert "Slicing.ny = 10" in config
  # The run record says what the run is, for the probes.
  record = run_record.read(str(tmp_path))
  assert record["source"] == {"name": "synthetic_notes_tiny"}
  assert record["slicing"]["args"]["ny"] == 10
  assert record["frontend"] == {"class": "AudioFrontend", "args": {
      **record["frontend"]["args"], "frame_step": 512}}
  assert record["loss"]["class"] == "PerturbedFenchelYoungLoss"
  assert record["network"]["num_patches"] == 10
  assert record["network"]["num_outputs"] == 10
  assert record["network"]["width"] == 0.03
  assert (record["train_steps"], record["seed"]) == (60, 0)


# ~45 s; `make test-all` runs it. The fast suite checks the layer against the
# tf.data path patch for patch (tests/test_model_inputs.py).
@pytest.mark.slow
def test_the_front_end_in_the_model_trains_the_same_run(tmp_path, data_dir):
  histories = {}
  for placement in ("model", "data"):
    gin.clear_config()
    _tiny_notes(data_dir, "train.train_steps = 20",
                "train.steps_per_checkpoint = 10",
                f"train.frontend_placement = '{placement}'")
    histories[placement] = train_lib.train(str(tmp_path / placement)).history
  # The same patches and permutations: the same run, up to float rounding.
  assert set(histories["model"]) == set(histories["data"])
  for name, values in histories["model"].items():
    np.testing.assert_allclose(values, histories["data"][name], rtol=1e-4,
                               err_msg=name)
  assert np.all(np.isfinite(histories["model"]["loss"]))
  # A placement is not a setting: the record is the same, and a run resumes
  # under the other one.
  records = [run_record.read(str(tmp_path / p)) for p in ("model", "data")]
  assert run_record.differences(*records) == []
  gin.clear_config()
  _tiny_notes(data_dir, "train.train_steps = 30",
              "train.steps_per_checkpoint = 10",
              "train.frontend_placement = 'model'")
  assert train_lib.train(str(tmp_path / "data")).epoch == [2]
  # The exported encoder takes the patches the probes cut in tf.data.
  gin.clear_config()
  output = evaluate_lib.evaluate(
      str(tmp_path / "model"), tasks=("instrument_family",),
      num_examples=(8,), seeds=(0,), baselines=("pretrained",), epochs=2)
  cell = output["results"]["instrument_family"]["pretrained"]["8"]
  assert 0.0 <= cell["mean"] <= 1.0


def test_the_fixed_set_takes_its_size_from_the_slicing(tmp_path, data_dir):
  _tiny_notes(data_dir, "train.train_steps = 2",
              "train.steps_per_checkpoint = 2", "Slicing.ny = 6",
              "FixedPermutationLoss.num_permutations = 30",
              files=[os.path.join(GIN_DIR, "losses",
                                  "fixed_permutations100.gin")])
  train_lib.train(str(tmp_path))
  record = run_record.read(str(tmp_path))
  assert record["loss"]["class"] == "FixedPermutationLoss"
  assert record["loss"]["args"]["num_items"] == 6
  assert record["network"]["num_patches"] == 6
  assert record["network"]["num_outputs"] == 30


def test_an_unreadable_checkpoint_falls_back_to_the_one_before(tmp_path,
                                                               data_dir,
                                                               caplog):
  _tiny_notes(data_dir, "train.train_steps = 20",
              "train.steps_per_checkpoint = 10")
  train_lib.train(str(tmp_path))
  checkpoints = tmp_path / "checkpoints"
  # The newest checkpoint's data cut short, TF's state file garbled.
  (data,) = checkpoints.glob("ckpt-20.data-*")
  data.write_bytes(data.read_bytes()[:100])
  (checkpoints / "checkpoint").write_bytes(b"\xff\xfe garbage")
  assert run_directory.readable_checkpoint(str(checkpoints)).endswith("ckpt-10")
  assert "ckpt-20 cannot be read" in caplog.text
  gin.clear_config()
  _tiny_notes(data_dir, "train.train_steps = 30",
              "train.steps_per_checkpoint = 10")
  history = train_lib.train(str(tmp_path))
  assert len(history.history["loss"]) == 2  # Steps 10 to 30.
  assert tf.train.latest_checkpoint(str(checkpoints)).endswith("ckpt-30")
  # With nothing readable, the error names the checkpoints.
  for data in checkpoints.glob("ckpt-*.data-*"):
    data.write_bytes(b"")
  with pytest.raises(FileNotFoundError, match="No checkpoint of .* can be "
                     "read: .*ckpt-30"):
    run_directory.readable_checkpoint(str(checkpoints))


def test_a_run_stopped_before_its_export_exports_on_rerun(tmp_path,
                                                          data_dir):
  _tiny_notes(data_dir, "train.train_steps = 10",
              "train.steps_per_checkpoint = 10")
  train_lib.train(str(tmp_path))
  assert run_record.read(str(tmp_path))["encoder_step"] == 10
  # As if killed after the last checkpoint, before the export.
  shutil.rmtree(tmp_path / run_directory.ENCODER_DIR)
  history = train_lib.train(str(tmp_path))
  assert history.history == {}  # Nothing trained...
  assert (tmp_path / run_directory.ENCODER_DIR / "saved_model.pb").exists()
  assert run_record.read(str(tmp_path))["encoder_step"] == 10


@pytest.mark.parametrize("binding, message", [
    ("train.train_steps = 0", "train.train_steps must be a positive integer, "
     "got 0"),
    ("train.train_steps = '20'", "train_steps must be a positive integer, "
     "got '20'"),
    ("train.batch_size = -1", "batch_size must be a positive integer"),
    ("train.log_every = 0", "log_every must be a positive integer"),
    ("train.learning_rate = '1e-3'", "learning_rate must be a positive "
     "number, got '1e-3'"),
    ("train.dropout = 1.0", "dropout must be a number in"),
    ("train.depth = 6", "depth must be an integer from 1 to 5"),
    ("train.frontend_placement = 'gpu'", "frontend_placement must be one of "
     "('data', 'model'), got 'gpu'"),
    ("train.source = 'synthetic_images_tiny'\n"
     "train.frontend_placement = 'model'", "this source's modality is "
     "'image', whose front end stays in tf.data"),
    ("train.precision = 'bfloat16'", "train.precision must be one of "
     "'float32', 'mixed_float16', 'mixed_bfloat16', got 'bfloat16'"),
    ("train.export_steps = (15,)", "train.export_steps holds 15: each must "
     "be a multiple of steps_per_checkpoint"),
    ("train.train_examples = 0", "train.train_examples must be a positive "
     "integer, got 0"),
    ("train.train_steps = 400\ntrain.export_steps = (400,)", "holds 400: "
     "each must be a multiple of steps_per_checkpoint (200) below "
     "train_steps (400)"),
])
def test_bad_knobs_are_refused_before_any_data_is_read(binding, message,
                                                        tmp_path):
  _tiny_notes("/nonexistent/tfds", binding)
  with pytest.raises(ValueError, match=re.escape(message)):
    train_lib.train(str(tmp_path))
  assert not (tmp_path / "checkpoints").exists()


def _steps(directory, tag):
  steps = []
  for path in sorted(glob.glob(str(directory / "events.out.tfevents.*"))):
    for event in tf.compat.v1.train.summary_iterator(path):
      steps += [event.step for v in event.summary.value if v.tag == tag]
  return sorted(steps)


def test_a_second_writer_is_kept_out(tmp_path, data_dir):
  sleeper = subprocess.Popen([sys.executable, "-c",
                              "import time; time.sleep(60)"])
  try:
    (tmp_path / locks.LOCK_FILE).write_text(
        f"{socket.gethostname()} {sleeper.pid}")
    _tiny_notes(data_dir, "train.train_steps = 2",
                "train.steps_per_checkpoint = 2")
    with pytest.raises(locks.LockedError, match=f"process {sleeper.pid}"):
      train_lib.train(str(tmp_path))
    assert not (tmp_path / "checkpoints").exists()
  finally:
    sleeper.kill()
    sleeper.wait()
  train_lib.train(str(tmp_path))  # The dead writer's lock is taken over.
  assert not (tmp_path / locks.LOCK_FILE).exists()


def test_a_loss_can_be_named_as_in_the_readme(tmp_path, data_dir):
  _tiny_notes(data_dir, "train.train_steps = 2",
              "train.steps_per_checkpoint = 2",
              "train.loss = 'fast_soft_ranking'")
  train_lib.train(str(tmp_path))
  assert run_record.read(str(tmp_path))["loss"]["class"] == "SoftRankLoss"


def test_a_loss_declared_once_trains_by_name_and_is_recorded(tmp_path,
                                                             data_dir):
  """README "Extending s2l": one decorated class is a loss for all of s2l."""

  @losses.register("toy_l1", "Toy L1")
  class ToyL1Loss(losses.PermutationLoss):
    """Mean absolute error between the scores and the ranks."""

    def call(self, y_true, y_pred):
      theta = tf.convert_to_tensor(y_pred)
      y_true = self._checked(y_true, theta)
      return tf.reduce_mean(tf.abs(theta - tf.cast(y_true, theta.dtype)),
                            axis=-1)

  try:
    _tiny_notes(data_dir, "train.train_steps = 2",
                "train.steps_per_checkpoint = 2", "train.loss = 'toy_l1'")
    history = train_lib.train(str(tmp_path))
    assert np.isfinite(history.history["loss"]).all()
    record = run_record.read(str(tmp_path))
    assert record["loss"]["class"] == "ToyL1Loss"
    assert isinstance(run_record.build(record["loss"]), ToyL1Loss)
  finally:
    del losses.REGISTRY["toy_l1"]


def test_a_run_on_the_first_examples_of_the_split_records_it(
    tmp_path, data_dir, monkeypatch):
  asked = []
  pretext_dataset = train_lib.pipeline.pretext_dataset

  def spy(source, split, **kwargs):
    asked.append((split, kwargs.get("max_examples")))
    return pretext_dataset(source, split, **kwargs)

  monkeypatch.setattr(train_lib.pipeline, "pretext_dataset", spy)
  _tiny_notes(data_dir, "train.train_steps = 2",
              "train.steps_per_checkpoint = 2", "train.train_examples = 8")
  train_lib.train(str(tmp_path))
  assert ("train", 8) in asked
  assert run_record.read(str(tmp_path))["train_examples"] == 8
  # The whole split is another run.
  gin.clear_config()
  _tiny_notes(data_dir, "train.train_steps = 4",
              "train.steps_per_checkpoint = 2")
  with pytest.raises(run_record.RecordError, match="train_examples"):
    train_lib.train(str(tmp_path))


def test_resuming_with_another_setting_is_refused(tmp_path, data_dir):
  _tiny_notes(data_dir, "train.train_steps = 10",
              "train.steps_per_checkpoint = 10")
  train_lib.train(str(tmp_path))
  gin.clear_config()
  _tiny_notes(data_dir, "train.train_steps = 20",
              "train.steps_per_checkpoint = 10", "Slicing.ny = 8")
  with pytest.raises(run_record.RecordError,
                     match=r"(?s)slicing: .*network: .*new --model_dir"):
    train_lib.train(str(tmp_path))
  gin.clear_config()
  _tiny_notes(data_dir, "train.train_steps = 20",
              "train.steps_per_checkpoint = 10",
              "train.precision = 'mixed_bfloat16'")
  with pytest.raises(run_record.RecordError, match=re.escape(
      'precision: recorded "float32", now "mixed_bfloat16"')):
    train_lib.train(str(tmp_path))
  assert tf.keras.mixed_precision.global_policy().name == "float32"
  assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")).endswith(
      "ckpt-10")
  assert run_record.read(str(tmp_path))["slicing"]["args"]["ny"] == 10
  # Unless asked to, and then the differences are logged.
  gin.clear_config()
  _tiny_notes(data_dir, "train.train_steps = 20",
              "train.steps_per_checkpoint = 10", "train.seed = 1",
              "train.override_record = True")
  train_lib.train(str(tmp_path))
  assert run_record.read(str(tmp_path))["seed"] == 1


def test_resumes_at_the_checkpoint_and_never_retrains(tmp_path, data_dir):
  _tiny_notes(data_dir, "train.train_steps = 20",
              "train.steps_per_checkpoint = 10")
  train_lib.train(str(tmp_path))
  # The same command with a longer schedule resumes at step 20 ...
  gin.clear_config()
  _tiny_notes(data_dir, "train.train_steps = 40",
              "train.steps_per_checkpoint = 10")
  history = train_lib.train(str(tmp_path))
  assert history.epoch == [2, 3]
  # TensorBoard's step curves continue across the resume (log_every 5: one
  # value per 5 steps, each step once).
  for tag in ("batch_loss", "batch_partial_ranks", "batch_exact_permutation",
              "steps_per_second"):
    assert _steps(tmp_path / "train", tag) == list(range(5, 41, 5)), tag
  assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")).endswith(
      "ckpt-40")
  # ... and once complete, does nothing.
  assert not train_lib.train(str(tmp_path)).epoch


def test_a_run_resumed_between_checkpoints_ends_at_its_budget(tmp_path,
                                                              data_dir):
  """A preempted run resumes from a step between two checkpoints: it still
  trains exactly train_steps steps, and its last epoch, cut short, is
  evaluated, checkpointed and exported at that step."""
  _tiny_notes(data_dir, "train.train_steps = 6",
              "train.steps_per_checkpoint = 3")
  train_lib.train(str(tmp_path))
  # Checkpoint at step 6; epochs of 4 steps from epoch 1 would end at 14.
  gin.clear_config()
  _tiny_notes(data_dir, "train.train_steps = 12",
              "train.steps_per_checkpoint = 4")
  history = train_lib.train(str(tmp_path))
  assert history.epoch == [1, 2]
  assert len(history.history["val_partial_ranks"]) == 2
  assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")).endswith(
      "ckpt-12")
  assert run_record.read(str(tmp_path))["encoder_step"] == 12
  assert _steps(tmp_path / "train", "batch_loss")[-1] == 12


def test_encoder_export_round_trip(tmp_path, data_dir):
  _tiny_notes(data_dir, "train.train_steps = 10",
              "train.steps_per_checkpoint = 10")
  train_lib.train(str(tmp_path))
  patches, _ = next(iter(pipeline.downstream_dataset(
      "synthetic_notes_tiny", "test", "pitch",
      slicing=gin.get_configurable("Slicing")(),
      frontend=gin.get_configurable("AudioFrontend")(), batch_size=4,
      data_dir=data_dir)))
  keras_encoder = tf.keras.models.load_model(str(tmp_path / "encoder"))
  embedding = keras_encoder(patches).numpy()
  assert embedding.shape == (4, round(256 * 0.03))
  saved = tf.saved_model.load(str(tmp_path / "encoder"))
  np.testing.assert_allclose(saved(patches, training=False).numpy(),
                             embedding, rtol=1e-5)
  # It is the trained network's embedding layer.
  network = tf.train.Checkpoint(network=cfn.context_free_network(
      10, patches.shape[2:], 10, width=0.03, depth=2, embedding_size=256))
  network.restore(tf.train.latest_checkpoint(
      str(tmp_path / "checkpoints"))).expect_partial()
  np.testing.assert_allclose(
      cfn.embedding_model(network.network)(patches).numpy(), embedding,
      rtol=1e-5)


def test_bad_bindings_and_files_fail_before_reading_data(tmp_path):
  config = os.path.join(GIN_DIR, "synthetic_notes_freq10.gin")
  with pytest.raises(ValueError, match="train_stepz"):
    configurables.parse_gin([config], ["train.train_stepz = 10"])
  gin.clear_config()
  with pytest.raises(ValueError, match="No configurable matching 'Slicin'"):
    configurables.parse_gin([config], ["Slicin.ny = 4"])
  gin.clear_config()
  with pytest.raises(FileNotFoundError, match="does not exist"):
    configurables.parse_gin(["gin/nsynth_freq100.gin"], [])
  gin.clear_config()
  configurables.parse_gin([config], ["train.train_steps = 25",
                                 "train.steps_per_checkpoint = 10"])
  with pytest.raises(ValueError, match="multiple of steps_per_checkpoint"):
    train_lib.train(str(tmp_path))
  with pytest.raises(ValueError, match="strategy must be one of"):
    train_lib.train(str(tmp_path), train_steps=10, steps_per_checkpoint=10,
                    strategy="mirored")
  assert not os.listdir(tmp_path)


@pytest.fixture(name="build_only")
def _build_only(monkeypatch):
  """train() builds the data and model and writes its config and record,
  but neither fits nor exports."""
  def no_fit(self, *args, **kwargs):
    del self, args, kwargs
    history = tf.keras.callbacks.History()
    history.epoch, history.history = [], {}
    return history
  monkeypatch.setattr(tf.keras.Model, "fit", no_fit)
  monkeypatch.setattr(run_directory, "export_encoder", lambda *args, **kwargs: None)


@pytest.mark.parametrize("config", [os.path.basename(c) for c in TOP_LEVEL])
def test_every_config_builds_its_model_and_pipeline(config, tmp_path,
                                                    data_dir, build_only):
  del build_only
  configurables.parse_gin([os.path.join(GIN_DIR, config)],
                          SMALL_MODEL + [f"train.data_dir = '{data_dir}'"])
  source = gin.query_parameter("train.source")
  overrides = dict(train_steps=1, steps_per_checkpoint=1, width=0.03,
                   depth=2)
  if source in TINY:
    train_lib.train(str(tmp_path), source=TINY[source], **overrides)
  else:
    with tfds.testing.mock_data(num_examples=4,
                                policy=tfds.testing.MockPolicy.USE_CODE):
      train_lib.train(str(tmp_path), **overrides)
  assert (tmp_path / "operative_config.gin").exists()


# The default loss and the fixed-set one (other outputs, other labels) in the
# fast suite; the others, whose Keras training tests/test_losses.py covers and
# whose configs tests/test_losses.py parses, in `make test-all` (~12 s each).
_FAST_LOSSES = ("perturbed_fenchel_young.gin", "fixed_permutations100.gin")


@pytest.mark.parametrize("loss", [
    name if name in _FAST_LOSSES else pytest.param(name, marks=pytest.mark.slow)
    for name in sorted(os.listdir(os.path.join(GIN_DIR, "losses")))])
def test_every_loss_config_trains_a_step(loss, tmp_path, data_dir):
  _tiny_notes(data_dir, "train.train_steps = 2",
              "train.steps_per_checkpoint = 2",
              files=[os.path.join(GIN_DIR, "losses", loss)])
  history = train_lib.train(str(tmp_path))
  assert np.isfinite(history.history["loss"]).all()


# The paper's three slicings in the fast suite; the other band counts, cut by
# the same code, in `make test-all` (~7 s each).
_FAST_SLICINGS = ("freq10.gin", "time10.gin", "time_frequency3x3.gin")


@pytest.mark.parametrize("slicing", [
    name if name in _FAST_SLICINGS else pytest.param(name,
                                                     marks=pytest.mark.slow)
    for name in sorted(os.listdir(os.path.join(GIN_DIR, "slicing")))
    if name != "grid3x3.gin"])
def test_every_audio_slicing_config_builds(slicing, tmp_path, data_dir,
                                           build_only):
  del build_only
  _tiny_notes(data_dir, files=[os.path.join(GIN_DIR, "slicing", slicing)])
  train_lib.train(str(tmp_path), train_steps=1, steps_per_checkpoint=1)
  assert (tmp_path / "operative_config.gin").exists()


def test_same_seed_same_metrics(tmp_path, data_dir):
  histories = []
  for run in ("a", "b"):
    gin.clear_config()
    _tiny_notes(data_dir, "train.train_steps = 20",
                "train.steps_per_checkpoint = 10")
    histories.append(train_lib.train(str(tmp_path / run)).history)
  assert histories[0] == histories[1]


def _start_cli_run(model_dir, data_dir, steps_per_checkpoint, log):
  """`python -m s2l.train` of 2000 steps on the tiny notes, logging to
  `log`; returns the process."""
  params = SMALL_MODEL + [
      f"train.data_dir = '{data_dir}'", "train.source = 'synthetic_notes_tiny'",
      "AudioFrontend.frame_step = 512", "train.train_steps = 2000",
      "train.eval_batches = 2",
      f"train.steps_per_checkpoint = {steps_per_checkpoint}"]
  command = [sys.executable, "-m", "s2l.train", f"--model_dir={model_dir}",
             "--gin_file=" + os.path.join(GIN_DIR, "synthetic_notes_freq10.gin")
             ] + [f"--gin_param={p}" for p in params]
  # TensorFlow's warnings stay on: tests read them (the tf.data cache one).
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="1")
  return subprocess.Popen(command, env=env, stdout=log, stderr=log)


def test_sigkill_loses_at_most_one_checkpoint_interval(tmp_path, data_dir):
  with open(tmp_path / "log.txt", "w") as log:
    process = _start_cli_run(tmp_path, data_dir, 10, log)
    deadline = time.time() + 240
    while not glob.glob(str(tmp_path / "checkpoints" / "ckpt-20.index")):
      assert process.poll() is None and time.time() < deadline
      time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
  text = (tmp_path / "log.txt").read_text()
  logged = [int(m) for m in re.findall(r"step (\d+)/2000", text)]
  saved = int(tf.train.latest_checkpoint(str(tmp_path / "checkpoints"))
              .rsplit("-", 1)[1])
  assert saved >= 20 and max(logged) - saved <= 10
  # Two held-out evaluations ran: each reads its set whole, so tf.data has
  # no partly read cache to warn about.
  assert "partially cached" not in text
  _tiny_notes(data_dir, f"train.train_steps = {saved + 10}",
              "train.steps_per_checkpoint = 10")
  history = train_lib.train(str(tmp_path))
  assert history.epoch == [saved // 10]


# SIGINT takes the same path as SIGTERM: it runs in `make test-all` (~28 s).
@pytest.mark.parametrize("signum", [
    signal.SIGTERM, pytest.param(signal.SIGINT, marks=pytest.mark.slow)])
def test_a_signal_checkpoints_the_step_it_reached_and_the_rerun_resumes(
    tmp_path, data_dir, signum):
  # Checkpoints every 1000 steps: none is due before the signal.
  with open(tmp_path / "log.txt", "w") as log:
    process = _start_cli_run(tmp_path, data_dir, 1000, log)
    deadline = time.time() + 240
    while not re.search(r"step (1[5-9]|[2-9]\d|\d{3})/2000",
                        (tmp_path / "log.txt").read_text()):
      assert process.poll() is None and time.time() < deadline
      time.sleep(0.1)
    process.send_signal(signum)
    code = process.wait(timeout=120)
  text = (tmp_path / "log.txt").read_text()
  assert code == 128 + signum, text[-2000:]
  assert "KeyboardInterrupt" not in text and "Traceback" not in text
  saved = int(tf.train.latest_checkpoint(str(tmp_path / "checkpoints"))
              .rsplit("-", 1)[1])
  # The step in progress when the signal came, not a periodic checkpoint.
  logged = [int(m) for m in re.findall(r"step (\d+)/2000", text)]
  assert 15 <= saved < 1000 and saved >= max(logged)
  name = signal.Signals(signum).name
  assert f"{name}: training stopped at step {saved}" in text
  assert (f"Rerun the same command to resume from it.\nResume with:\n  "
          "python -m s2l.train --model_dir=") in text
  # The lock is released and the record written: the rerun resumes there.
  assert not os.path.exists(tmp_path / locks.LOCK_FILE)
  assert run_record.read(str(tmp_path))["train_steps"] == 2000
  gin.clear_config()
  _tiny_notes(data_dir, f"train.train_steps = {saved + 2}",
              "train.steps_per_checkpoint = 1")
  history = train_lib.train(str(tmp_path))
  assert history.epoch == [saved, saved + 1]


def test_a_second_signal_exits_at_once():
  script = (
      "import signal\n"
      "from s2l import callbacks\n"
      "stop = callbacks.Preemption(manager=None)\n"
      "stop.on_train_begin()\n"
      "signal.raise_signal(signal.SIGTERM)\n"
      "assert stop.signal == signal.SIGTERM\n"
      "print('first signal noted', flush=True)\n"
      "signal.raise_signal(signal.SIGTERM)\n"
      "print('still running')\n")
  done = subprocess.run([sys.executable, "-c", script], capture_output=True,
                        text=True, timeout=120,
                        env=dict(os.environ, PYTHONPATH=ROOT,
                                 TF_CPP_MIN_LOG_LEVEL="2"))
  assert done.returncode == 128 + signal.SIGTERM, done.stderr[-2000:]
  assert "first signal noted" in done.stdout
  assert "still running" not in done.stdout
  assert "SIGTERM again: exiting at once" in done.stderr


def test_a_loss_exploding_at_the_first_update_is_warned_about(tmp_path,
                                                             data_dir, caplog):
  # Learning rate 10: the perturbed Fenchel-Young loss jumps ~1e9-fold at
  # step 2 and stays finite, so nothing stops the run; a warning must say so.
  _tiny_notes(data_dir, "train.train_steps = 10",
              "train.steps_per_checkpoint = 10", "train.learning_rate = 10.0",
              "train.loss = 'perturbed_fenchel_young'")
  with caplog.at_level(logging.WARNING):
    history = train_lib.train(str(tmp_path))
  assert np.isfinite(history.history["loss"][0])
  assert history.history["loss"][0] > 1e6
  warned = [r.getMessage() for r in caplog.records
            if "may be diverging" in r.getMessage()]
  assert warned and "Lower train.learning_rate" in warned[0]


def test_a_diverging_run_stops_and_keeps_its_finite_checkpoint(tmp_path,
                                                              data_dir):
  _tiny_notes(data_dir, "train.train_steps = 10",
              "train.steps_per_checkpoint = 10",
              "train.loss = @RankMSELoss()")
  train_lib.train(str(tmp_path))
  exported = (tmp_path / run_directory.ENCODER_DIR / "saved_model.pb").stat()
  # Resumed with an absurd learning rate (the config's, not the one in the
  # checkpoint), the scores reach ~1e30 and their
  # squared error overflows float32.
  gin.clear_config()
  _tiny_notes(data_dir, "train.train_steps = 40",
              "train.steps_per_checkpoint = 10",
              "train.learning_rate = 1e30", "train.loss = @RankMSELoss()")
  with pytest.raises(FloatingPointError,
                     match="ckpt-10, holds finite ones. Lower train.learning"):
    train_lib.train(str(tmp_path))
  checkpoint = tf.train.latest_checkpoint(str(tmp_path / "checkpoints"))
  assert checkpoint.endswith("ckpt-10")
  reader = tf.train.load_checkpoint(checkpoint)
  for name in reader.get_variable_to_shape_map():
    value = reader.get_tensor(name)
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
      assert np.all(np.isfinite(value)), name
  # Not re-exported, and the record says the encoder is step 10's of a
  # 40-step run, which s2l.evaluate refuses to probe as the run's.
  assert (tmp_path / run_directory.ENCODER_DIR / "saved_model.pb").stat(
      ).st_mtime_ns == exported.st_mtime_ns
  record = run_record.read(str(tmp_path))
  assert (record["encoder_step"], record["train_steps"]) == (10, 40)


@pytest.fixture(name="fitted")
def _fitted(monkeypatch):
  """A list that gets, for every model train() fits, as fit() starts: the
  model, Keras' global policy and its loss scale (None without scaling)."""
  fitted = []
  original_fit = tf.keras.Model.fit

  def fit(self, *args, **kwargs):
    optimizer = self.optimizer
    scale = None
    if isinstance(optimizer, tf.keras.mixed_precision.LossScaleOptimizer):
      scale = (float(optimizer.loss_scale),
               int(optimizer.dynamic_counter.numpy()))
    fitted.append({"model": self, "loss_scale": scale, "policy":
                   tf.keras.mixed_precision.global_policy().name})
    return original_fit(self, *args, **kwargs)

  monkeypatch.setattr(tf.keras.Model, "fit", fit)
  return fitted


def _test_patches(data_dir):
  patches, _ = next(iter(pipeline.downstream_dataset(
      "synthetic_notes_tiny", "test", "pitch",
      slicing=gin.get_configurable("Slicing")(),
      frontend=gin.get_configurable("AudioFrontend")(), batch_size=4,
      data_dir=data_dir)))
  return patches


def test_bfloat16_trains_end_to_end_on_cpu(tmp_path, data_dir, fitted):
  _tiny_notes(data_dir, "train.train_steps = 20",
              "train.steps_per_checkpoint = 10",
              "train.precision = 'mixed_bfloat16'")
  history = train_lib.train(str(tmp_path)).history
  for name in ("loss", "val_loss"):
    assert np.isfinite(history[name]).all(), history
  assert all(0 <= v <= 1 for v in history["partial_ranks"] +
             history["val_exact_permutation"])
  # Nothing leaks: the policy was the run's while it trained only.
  assert fitted[0]["policy"] == "mixed_bfloat16"
  assert tf.keras.mixed_precision.global_policy().name == "float32"
  model = fitted[0]["model"]
  assert fitted[0]["loss_scale"] is None  # bfloat16 needs no scaling.
  network = model.network
  for layer in ("shared_encoder", cfn.EMBEDDING_LAYER):
    assert network.get_layer(layer).compute_dtype == "bfloat16"
  assert {w.dtype for w in network.weights} == {tf.float32}
  patches = _test_patches(data_dir)
  assert network(patches).dtype == tf.float32  # What the losses read.
  assert run_record.read(str(tmp_path))["precision"] == "mixed_bfloat16"
  # The exported encoders load (under float32) as the network computed
  # them, in bfloat16, and give the probes float32.
  encoders = {directory: tf.keras.models.load_model(
      str(tmp_path / directory), compile=False) for directory in (
          run_directory.ENCODER_DIR, run_directory.INIT_ENCODER_DIR)}
  for encoder in encoders.values():
    assert encoder.get_layer(cfn.EMBEDDING_LAYER).compute_dtype == "bfloat16"
    assert encoder(patches).dtype == tf.float32
    assert encoder(patches).shape == (4, round(256 * 0.03))
  np.testing.assert_allclose(
      encoders[run_directory.ENCODER_DIR](patches).numpy(),
      cfn.embedding_model(network)(patches).numpy(), rtol=1e-6)


def test_float16_scales_the_loss_and_resumes_with_its_scale(tmp_path,
                                                            data_dir, fitted):
  _tiny_notes(data_dir, "train.train_steps = 10",
              "train.steps_per_checkpoint = 10",
              "train.precision = 'mixed_float16'")
  history = train_lib.train(str(tmp_path))
  assert np.isfinite(history.history["loss"]).all()
  model = fitted[0]["model"]
  assert isinstance(model.optimizer,
                    tf.keras.mixed_precision.LossScaleOptimizer)
  assert model.network.get_layer("shared_encoder").compute_dtype == "float16"
  assert fitted[0]["loss_scale"] == (2.0**15, 0)  # Keras' initial scale.
  reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(
      str(tmp_path / "checkpoints")))
  saved = (float(reader.get_tensor(
      "optimizer/loss_scale/current_loss_scale/.ATTRIBUTES/VARIABLE_VALUE")),
           int(reader.get_tensor(
               "optimizer/loss_scale/good_steps/.ATTRIBUTES/VARIABLE_VALUE")))
  assert saved[1] > 0
  gin.clear_config()
  _tiny_notes(data_dir, "train.train_steps = 20",
              "train.steps_per_checkpoint = 10",
              "train.precision = 'mixed_float16'")
  history = train_lib.train(str(tmp_path))
  assert history.epoch == [1] and np.isfinite(history.history["loss"]).all()
  # The resumed optimizer starts from the checkpoint's loss scale.
  assert fitted[1]["loss_scale"] == saved
  assert tf.keras.mixed_precision.global_policy().name == "float32"
