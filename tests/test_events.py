"""Tests for s2l/events.py: scalars read back from a run's summaries."""

import glob
import os
import time

import pytest
import tensorflow as tf

from s2l import events


def _write(folder, points, tag="collapse/embedding_dead_fraction"):
  writer = tf.summary.create_file_writer(str(folder))
  with writer.as_default():
    for step, value in points:
      tf.summary.scalar(tag, value, step=step)
      tf.summary.scalar("other", 1.0, step=step)
  writer.close()


def test_a_resumed_run_reads_in_order_and_its_last_value_wins(tmp_path):
  _write(tmp_path / "train", [(200, 0.1), (400, 0.2), (600, 0.3)])
  time.sleep(1.1)  # Event file names carry the time in seconds.
  # Resumed from the checkpoint at 400: step 600 is written again.
  _write(tmp_path / "train", [(600, 0.35), (800, 0.4)])
  curves = events.scalars(str(tmp_path), "train", prefix="collapse/")
  assert set(curves) == {"collapse/embedding_dead_fraction"}
  steps, values = curves["collapse/embedding_dead_fraction"]
  assert steps == [200, 400, 600, 600, 800]
  assert events.last((steps, values)) == (800, pytest.approx(0.4))
  assert events.last(([1, 2, 2], [0.0, 0.5, 0.7])) == (2, 0.7)


def test_a_truncated_file_is_read_up_to_the_damage(tmp_path):
  _write(tmp_path / "validation", [(0, 0.5), (1, 0.6)], tag="epoch_loss")
  (path,) = glob.glob(str(tmp_path / "validation" / "events.out.*"))
  data = open(path, "rb").read()
  with open(path, "wb") as f:
    f.write(data[:-7])  # A run killed while writing the last scalar.
  curves = events.scalars(str(tmp_path), "validation")
  assert curves["epoch_loss"] == ([0, 1], [0.5, pytest.approx(0.6)])
  assert curves["other"][0] == [0]
  assert events.scalars(str(tmp_path / "nothing")) == {}
