"""Tests for s2l/data/sources.py."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from s2l.data import sources


def test_task_labels():
  family = sources.get("nsynth").tasks["instrument_family"]
  example = {"instrument": {"family": tf.constant(3, tf.int64)},
             "pitch": tf.constant(60, tf.int64),
             "labels": tf.constant([2, 5, 2], tf.int64)}
  assert family.label(example).dtype == tf.int32
  assert int(family.label(example)) == 3
  pitch = sources.get("nsynth").tasks["pitch"].label(example)
  assert pitch.dtype == tf.float32 and float(pitch) == 60.0
  voc = sources.get("voc2012").tasks["labels"]
  hot = voc.label(example).numpy()
  assert hot.shape == (20,) and hot.sum() == 2 and hot[2] == hot[5] == 1
  empty = voc.label({"labels": tf.zeros([0], tf.int64)}).numpy()
  np.testing.assert_array_equal(empty, np.zeros(20))


def test_unknown_names_list_the_known_ones():
  with pytest.raises(ValueError, match="known sources: .*nsynth"):
    sources.get("nsnyth")
  with pytest.raises(ValueError, match="splits .*'validation'"):
    sources.get("nsynth").load("valid")
  with pytest.raises(ValueError, match="kind must be one of"):
    sources.Task("t", "ranking", ("x",))


@pytest.mark.parametrize("name,hint", [
    ("nsynth", "tfds build nsynth"),
    ("voc2012", "tfds build voc/2012"),
    ("imagenet2012", "ILSVRC2012_img_train.tar"),
])
def test_missing_real_data_says_how_to_get_it(name, hint, tmp_path):
  with pytest.raises(FileNotFoundError) as error:
    sources.get(name).load("train", data_dir=str(tmp_path))
  message = str(error.value)
  assert hint in message and "embedded twin" in message
  assert str(tmp_path) in message


def test_each_real_source_declares_its_embedded_twin():
  for name, source in sources.SOURCES.items():
    if source.embedded:
      assert source.twin is None and sources.twin(name) == name
    else:
      twin = sources.get(source.twin)
      assert twin.embedded and twin.modality == source.modality
      if source.modality != "image":  # The image twin stands in for
        # ImageNet -> VOC. A twin has every task of its source; the video
        # twin adds one that only the motion tells.
        extra = {"video": {"pace"}}.get(source.modality, set())
        assert set(twin.tasks) == set(source.tasks) | extra
  assert sources.twin("nsynth") == "synthetic_notes"
  assert sources.twin("nsynth", "soundfont_notes") == "soundfont_notes"
  assert sources.twin("voc2012") == "emoji_images"
  assert sources.twin("imagenet2012") == "emoji_images"
  assert sources.twin("something_something_v2") == "physics_video"


def test_embedded_tasks_match_their_builders():
  # pylint: disable=import-outside-toplevel
  from s2l.datasets import soundfont_notes
  from s2l.datasets import synthetic_images
  from s2l.datasets import synthetic_notes
  from s2l.datasets import synthetic_video
  notes = sources.get("synthetic_notes").tasks
  assert notes["instrument_family"].num_classes == len(
      synthetic_notes.FAMILY_NAMES)
  assert notes["instrument"].num_classes == synthetic_notes.NUM_INSTRUMENTS
  for name in ("soundfont_notes", "soundfont_notes_tiny"):
    tasks = sources.get(name).tasks
    assert tasks["instrument_family"].num_classes == len(
        soundfont_notes.FAMILY_NAMES)
    assert tasks["instrument"].num_classes == soundfont_notes.NUM_PROGRAMS
    assert tasks["pitch"].kind == "regression"
  assert sources.get("synthetic_video").tasks["label"].num_classes == len(
      synthetic_video.CLASS_NAMES)
  assert sources.get("synthetic_images").tasks["labels"].num_classes == len(
      synthetic_images.CLASS_NAMES)
  assert sources.get("synthetic_images_tiny").tfds_name.endswith("/tiny")


def test_numbers_of_classes_come_from_the_builders_features():
  # Declared without a number: each is read from its TFDS builder's info.
  for source in sources.SOURCES.values():
    assert all(t.num_classes is None for t in source.task_specs.values())
  expected = {
      "nsynth": {"instrument_family": 11, "instrument": 1006},
      "imagenet2012": {"label": 1000}, "voc2012": {"labels": 20},
      "something_something_v2": {"label": 174},
      "synthetic_notes": {"instrument_family": 8, "instrument": 32},
      "soundfont_notes": {"instrument_family": 14, "instrument": 112},
      "synthetic_video": {"label": 10}, "synthetic_images": {"labels": 10}}
  for name, classes in expected.items():
    tasks = sources.get(name).tasks
    assert {n: t.num_classes for n, t in tasks.items()
            if t.kind != "regression"} == classes, name
    assert all(t.num_classes is None for t in tasks.values()
               if t.kind == "regression")


def test_reading_part_of_a_small_split_leaves_no_partial_cache(tmp_path):
  # TFDS caches a small split whole unless told not to; reading part of it
  # (the held-out batches, a probe's labelled examples) then made tf.data
  # warn, at every run, that it discarded the partial cache.
  code = ("from s2l.data import sources\n"
          "ds = sources.get('synthetic_notes_tiny').load('validation', "
          f"{str(tmp_path)!r})\n"
          "assert len(list(ds.take(2))) == 2\n")
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  result = subprocess.run(
      [sys.executable, "-c", code], capture_output=True, text=True,
      timeout=300, env={**os.environ, "PYTHONPATH": root,
                        "TF_CPP_MIN_LOG_LEVEL": "0"})
  assert result.returncode == 0, result.stderr[-2000:]
  assert "did not fully read the dataset being cached" not in result.stderr
