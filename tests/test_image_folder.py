"""Tests for s2l/datasets/image_folder.py: a user's images with a manifest."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from s2l import run_record
from s2l.data import patches
from s2l.data import pipeline
from s2l.datasets import image_folder
from s2l.datasets.image_folder import ImageFolder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLOURS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}


def _image(colour, shape, rng):
  """A [48, 40, 3] uint8 picture: a coloured disc or square on noise."""
  image = rng.integers(0, 60, (48, 40, 3)).astype(np.uint8)
  y, x = np.mgrid[:48, :40]
  mask = ((y - 24) ** 2 + (x - 20) ** 2 < 144 if shape == "disc" else
          (abs(y - 24) < 12) & (abs(x - 20) < 12))
  image[mask] = COLOURS[colour]
  return image


def _write(root, rows, name="manifest.csv"):
  with open(root / name, "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)


def _folder(root, count=24, split=True):
  """PNG and JPEG pictures; "shape" one class each, "labels" the colours
  present (one or two, ';'-separated)."""
  rng = np.random.default_rng(0)
  rows = []
  for i in range(count):
    shape = ("disc", "square")[i % 2]
    colour = list(COLOURS)[i % 3]
    image = _image(colour, shape, rng)
    labels = [colour]
    if i % 4 == 0:  # A second colour in a corner.
      extra = list(COLOURS)[(i + 1) % 3]
      image[:8, :8] = COLOURS[extra]
      labels.append(extra)
    name = f"img_{i:02d}." + ("png" if i % 2 else "jpg")
    encode = tf.io.encode_png if i % 2 else tf.io.encode_jpeg
    tf.io.write_file(str(root / name), encode(image))
    row = {"path": name, "shape": shape, "labels": ";".join(labels)}
    if split:
      row["split"] = ("train", "train", "validation", "test")[i % 4]
    rows.append(row)
  _write(root, rows)
  return rows


def test_images_labels_and_splits_come_from_the_manifest(tmp_path):
  rows = _folder(tmp_path)
  images = ImageFolder(str(tmp_path), label_columns=("shape",),
                       multilabel_column="labels", split_column="split")
  assert images.splits == {"train": 12, "validation": 6, "test": 6}
  tasks = images.tasks
  assert tasks["shape"].kind == "classification"
  assert tasks["shape"].num_classes == 2
  assert tasks["labels"].kind == "multilabel"
  assert images.class_names("labels") == ["blue", "green", "red"]
  (first,) = images.load("train").take(1)
  assert first["image"].dtype == tf.uint8
  assert first["image"].shape == (48, 40, 3)
  assert first["path"].numpy().decode().endswith("img_00.jpg")
  # img_00: a red disc with a green corner, read as a multi-hot vector.
  np.testing.assert_array_equal(tasks["labels"].label(first).numpy(),
                                [0.0, 1.0, 1.0])
  assert int(tasks["shape"].label(first)) == images.class_names(
      "shape").index(rows[0]["shape"])
  # The pixels are the ones written (the PNG exactly).
  second = list(images.load("train").take(2))[1]
  assert second["path"].numpy().decode().endswith("img_01.png")
  np.testing.assert_array_equal(
      second["image"].numpy(),
      tf.io.decode_png(tf.io.read_file(str(tmp_path / "img_01.png"))))


def test_one_column_per_class_gives_the_same_labels(tmp_path):
  rows = _folder(tmp_path)
  for row in rows:
    for colour in COLOURS:
      row[colour] = int(colour in row["labels"].split(";"))
  _write(tmp_path, rows, "columns.csv")
  by_names = ImageFolder(str(tmp_path), multilabel_column="labels",
                         split_column="split")
  by_columns = ImageFolder(str(tmp_path), manifest="columns.csv",
                           class_columns=("red", "green", "blue"),
                           split_column="split")
  assert by_columns.class_names("labels") == ["red", "green", "blue"]
  reorder = [by_names.class_names("labels").index(c)
             for c in ("red", "green", "blue")]
  for a, b in zip(by_names.load("test"), by_columns.load("test")):
    np.testing.assert_array_equal(
        by_names.tasks["labels"].label(a).numpy()[reorder],
        by_columns.tasks["labels"].label(b).numpy())
  rows[3]["green"] = 2
  _write(tmp_path, rows, "columns.csv")
  with pytest.raises(ValueError, match=r"Line 5: class column 'green' must "
                     "be 0 or 1, got '2'"):
    ImageFolder(str(tmp_path), manifest="columns.csv",
                class_columns=("red", "green", "blue"))
  with pytest.raises(ValueError, match="not both or neither"):
    ImageFolder(str(tmp_path), multilabel_column="labels",
                class_columns=("red",))


def test_every_bad_image_is_named_with_its_line(tmp_path):
  rows = _folder(tmp_path, count=8)
  (tmp_path / "img_02.jpg").write_text("not a picture")
  (tmp_path / "img_05.png").write_bytes(b"")
  os.remove(tmp_path / "img_06.jpg")
  tf.io.write_file(str(tmp_path / "img_07.png"), tf.io.encode_png(
      np.full((20, 20, 3), 128, np.uint8)))
  with pytest.raises(ValueError) as refused:
    ImageFolder(str(tmp_path), label_columns=("shape",))
  message = str(refused.value)
  assert "4 of the 8 files listed in manifest.csv cannot be used" in message
  assert ("Line 9: " in message and "img_07.png: a single colour throughout "
          "(RGB 128, 128, 128)" in message)
  assert "Line 4: " in message and "img_02.jpg: cannot decode" in message
  assert "Line 7: " in message and "img_05.png: cannot decode" in message
  assert "Line 8: " in message and "img_06.jpg: file not found" in message
  assert "on_error='skip'" in message
  images = ImageFolder(str(tmp_path), label_columns=("shape",),
                       on_error="skip")
  assert sorted(os.path.basename(p) for p, _ in images.skipped) == [
      "img_02.jpg", "img_05.png", "img_06.jpg", "img_07.png"]
  assert sum(images.splits.values()) == 4
  rows[0]["path"] = "notes.txt"
  _write(tmp_path, rows)
  with pytest.raises(ValueError, match="Line 2: notes.txt is not one of the "
                     "supported types"):
    ImageFolder(str(tmp_path))


def test_an_image_changed_after_opening_is_named(tmp_path):
  _folder(tmp_path, count=8)
  images = ImageFolder(str(tmp_path), split_column="split")
  tf.io.write_file(str(tmp_path / "img_00.jpg"), tf.io.encode_png(
      np.zeros((4, 4, 3), np.uint8)))
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match="Image changed since the folder was checked"):
    list(images.load("train"))


def test_without_a_split_column_images_split_by_a_hash_of_their_path(
    tmp_path):
  _folder(tmp_path, split=False)
  first = ImageFolder(str(tmp_path), split_fractions=(0.5, 0.25, 0.25))
  again = ImageFolder(str(tmp_path), split_fractions=(0.5, 0.25, 0.25))
  assert first.splits == again.splits and sum(first.splits.values()) == 24
  assert first.splits["validation"] > 0


def test_the_folder_feeds_the_jigsaw_pipeline_and_its_record(tmp_path):
  _folder(tmp_path)
  images = ImageFolder(str(tmp_path), label_columns=("shape",),
                       multilabel_column="labels", split_column="split")
  rebuilt = run_record.build_source(run_record.describe_source(images))
  assert rebuilt.config == images.config and rebuilt.splits == images.splits
  slicing = patches.Slicing(3, 3)
  ds = pipeline.pretext_dataset(images, "train", slicing=slicing,
                                batch_size=4, seed=0, repeat=False)
  batch_patches, ranks = next(iter(ds))
  assert batch_patches.shape[:2] == (4, 9)
  assert sorted(ranks[0].numpy().tolist()) == list(range(1, 10))


@pytest.mark.slow  # ~40 s; `make test-all` runs it.
def test_a_folder_trains_then_probes_from_the_command_line(tmp_path):
  folder = tmp_path / "pictures"
  folder.mkdir()
  _folder(folder)
  run = tmp_path / "run"

  def command(*args):
    result = subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
        text=True, timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr[-3000:]

  # The README's commands.
  command("s2l.train", "--gin_file=gin/emoji_images_grid3x3.gin",
          "--gin_file=gin/sources/image_folder.gin",
          f"--gin_param=ImageFolder.root='{folder}'",
          "--gin_param=ImageFolder.multilabel_column='labels'",
          "--gin_param=ImageFolder.split_column='split'",
          "--gin_param=ImageFrontend.size = 48",
          *[f"--gin_param={p}" for p in (
              "train.width = 0.03", "train.depth = 2",
              "train.embedding_size = 64", "train.batch_size = 4",
              "train.eval_batches = 1", "train.train_steps = 4",
              "train.steps_per_checkpoint = 2")], f"--model_dir={run}")
  command("s2l.evaluate", f"--model_dir={run}",
          "--gin_param=evaluate.num_examples=(8,)",
          "--gin_param=evaluate.seeds=(0,)", "--gin_param=evaluate.epochs=2")
  with open(run / "probe.json") as f:
    report = json.load(f)
  assert report["source"] == f"image_folder:{folder}"
  assert report["head"] == "linear"
  cell = report["results"]["labels"]["pretrained"]["8"]
  assert cell["metric"] == "mean_auc" and 0.0 <= cell["mean"] <= 1.0
