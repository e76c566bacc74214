"""Tests for s2l/cli.py and the thin entry points s2l/train.py, evaluate.py."""

import logging
import os
import subprocess
import sys

from s2l import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_shipped_lists_configs_losses_and_sources():
  text = cli.shipped()
  assert "gin/synthetic_notes_freq10.gin" in text
  assert "gin/losses/fixed_permutations100.gin" in text
  assert "gin/slicing/time10.gin" in text
  assert "gin/sources/audio_folder.gin" in text
  assert "soundfont_notes_tiny" in text


def test_library_modules_define_no_flags():
  # Importing the library defines no command-line flag: only the entry
  # points do (their flags are those of cli.define_flags).
  done = subprocess.run(
      [sys.executable, "-c",
       "from absl import flags; import s2l.training, s2l.evaluation; "
       "print('gin_file' in flags.FLAGS, 'model_dir' in flags.FLAGS)"],
      capture_output=True, text=True, cwd=ROOT, timeout=300, check=True)
  assert done.stdout.split() == ["False", "False"]


def test_help_lists_the_shipped_configs_and_missing_model_dir_is_an_error():
  for module in ("s2l.train", "s2l.evaluate"):
    done = subprocess.run([sys.executable, "-m", module, "--help"],
                          capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert "gin/nsynth_freq10.gin" in done.stdout
    assert "gin/losses/mse.gin" in done.stdout
  done = subprocess.run([sys.executable, "-m", "s2l.train"],
                        capture_output=True, text=True, cwd=ROOT, timeout=300)
  assert done.returncode != 0 and "--model_dir is required" in done.stderr


def test_a_finished_run_ends_with_what_it_reached_and_what_to_run_next(
    tmp_path):
  script = (
      "import sys\n"
      "import tensorflow as tf\n"
      "writer = tf.summary.create_file_writer(sys.argv[1] + '/validation')\n"
      "with writer.as_default():\n"
      "  for epoch, value in enumerate((0.3, 0.8251)):\n"
      "    tf.summary.scalar('epoch_partial_ranks', value, step=epoch)\n"
      "    tf.summary.scalar('epoch_exact_permutation', value / 2, "
      "step=epoch)\n"
      "writer.close()\n"
      "from s2l import train\n"
      "print(train.summary(sys.argv[1]))\n")
  done = subprocess.run([sys.executable, "-c", script, str(tmp_path)],
                        capture_output=True, text=True, cwd=ROOT, timeout=300,
                        check=True)
  assert ("Done: held-out partial ranks 0.825, exact permutations 0.413."
          in done.stdout)
  assert f"Encoder: {tmp_path}/encoder" in done.stdout
  assert f"python -m s2l.evaluate --model_dir={tmp_path}" in done.stdout


def _passes(logger_name, level, message):
  record = logging.makeLogRecord({"name": logger_name, "levelno": level,
                                  "levelname": logging.getLevelName(level),
                                  "msg": message})
  return bool(logging.getLogger(logger_name).filter(record))


def test_the_libraries_routine_chatter_is_kept_off_the_console():
  cli.quiet_libraries()
  cli.quiet_libraries()  # Once is enough; twice changes nothing.
  assert sum(isinstance(f, cli._Chatter)  # pylint: disable=protected-access
             for f in logging.getLogger("absl").filters) == 1
  info, warning = logging.INFO, logging.WARNING
  # What TFDS and TensorFlow say on every split and every probe: dropped.
  assert not _passes("absl", info, "Reusing dataset s2l_soundfont_notes (/d)")
  assert not _passes("absl", info, "Load dataset info from /d/1.0.0")
  assert not _passes("absl", warning, "You use TensorFlow DType <dtype: "
                     "'int16'> in tfds.features This will soon be deprecated")
  assert not _passes("tensorflow", warning, "5 out of the last 9 calls to <f>"
                     " triggered tf.function retracing. Tracing is expensive")
  # s2l's own progress, TFDS preparing a data set, other warnings and any
  # error: kept.
  assert _passes("absl", info, "pitch pretrained 1000 labels: mse 56.7")
  assert _passes("absl", info, "Generating dataset s2l_soundfont_notes (/d)")
  assert _passes("tensorflow", warning, "Gradients do not exist for variables")
  assert _passes("absl", logging.ERROR, "Reusing dataset failed")
