"""Tests for s2l/datasets/something_something.py on a tiny release made here."""

import json
import logging
import os

import av
import numpy as np
import pytest
import tensorflow_datasets as tfds

from s2l.datasets import something_something as ssv2

# Indices deliberately not in alphabetical order of the templates.
_LABEL_MAP = {"Pushing something left": "2", "Lifting something": "0",
              "Putting something on something": "1"}
_TRAIN = [("10", "Pushing [something] left"), ("11", "Lifting [something]"),
          ("12", "Putting [something] on [something]")]
_VALIDATION = [("20", "Lifting [something]")]
_NUM_FRAMES, _HEIGHT, _WIDTH = 8, 24, 32


def _write_video(path, codec="libvpx-vp9"):
  """A white square moving right by 3 pixels a frame, at 12 fps."""
  with av.open(path, "w", format="webm") as container:
    stream = container.add_stream(codec, rate=12)
    stream.width, stream.height, stream.pix_fmt = _WIDTH, _HEIGHT, "yuv420p"
    for i in range(_NUM_FRAMES):
      frame = np.zeros((_HEIGHT, _WIDTH, 3), np.uint8)
      frame[8:16, 3 * i:3 * i + 8] = 255
      for packet in stream.encode(av.VideoFrame.from_ndarray(frame, "rgb24")):
        container.mux(packet)
    for packet in stream.encode():
      container.mux(packet)


def _make_release(root, flat=False):
  """Writes the release layout under `root`; returns the video directory."""
  video_dir = root if flat else root / "20bn-something-something-v2"
  label_dir = root if flat else root / "labels"
  video_dir.mkdir(parents=True, exist_ok=True)
  label_dir.mkdir(parents=True, exist_ok=True)
  for i, (video_id, _) in enumerate(_TRAIN + _VALIDATION):
    # Both codecs of the release: VP9 mostly, some VP8.
    _write_video(str(video_dir / f"{video_id}.webm"),
                 "libvpx" if i % 2 else "libvpx-vp9")
  (label_dir / "something-something-v2-labels.json").write_text(
      json.dumps(_LABEL_MAP))
  for name, entries in [("train", _TRAIN), ("validation", _VALIDATION)]:
    (label_dir / f"something-something-v2-{name}.json").write_text(json.dumps(
        [{"id": i, "label": t.lower(), "template": t, "placeholders": ["x"]}
         for i, t in entries]))
  return video_dir


def _build(tmp_path, manual_dir, **config):
  config.setdefault("height", 12)
  config.setdefault("width", 16)
  builder = tfds.builder(
      "something_something_v2", data_dir=str(tmp_path / "tfds"),
      config=ssv2.SomethingSomethingV2Config(name="tiny", **config))
  builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
      manual_dir=str(manual_dir)))
  return builder


def _examples(builder, split):
  return {ex["id"].decode(): ex
          for ex in tfds.as_numpy(builder.as_dataset(split=split))}


@pytest.mark.parametrize("flat", [False, True])
def test_builds_labels_ids_and_resized_frames(tmp_path, flat):
  _make_release(tmp_path / "manual", flat=flat)
  builder = _build(tmp_path, tmp_path / "manual")
  train = _examples(builder, "train")
  assert builder.info.features["label"].num_classes == 174
  assert sorted(train) == ["10", "11", "12"]
  assert {i: (ex["label"], ex["template"].decode())
          for i, ex in train.items()} == {
              "10": (2, "Pushing something left"),
              "11": (0, "Lifting something"),
              "12": (1, "Putting something on something")}
  assert list(_examples(builder, "validation")) == ["20"]
  video = train["10"]["video"]
  assert video.shape == (_NUM_FRAMES, 12, 16, 3) and video.dtype == np.uint8
  # The bright square moves right: its column centroid increases.
  columns = video.mean(axis=(1, 3))
  centroids = (columns * np.arange(16)).sum(1) / columns.sum(1)
  assert np.all(np.diff(centroids) > 0)


def test_fps_and_max_frames(tmp_path):
  _make_release(tmp_path / "manual")
  assert _examples(_build(tmp_path / "a", tmp_path / "manual", fps=6.0),
                   "train")["11"]["video"].shape[0] == _NUM_FRAMES // 2
  assert _examples(_build(tmp_path / "b", tmp_path / "manual", max_frames=3),
                   "train")["11"]["video"].shape[0] == 3


def test_missing_label_files_are_named(tmp_path):
  _make_release(tmp_path / "manual")
  os.remove(tmp_path / "manual/labels/something-something-v2-labels.json")
  os.remove(tmp_path / "manual/labels/something-something-v2-validation.json")
  with pytest.raises(FileNotFoundError) as e:
    _build(tmp_path, tmp_path / "manual")
  assert "something-something-v2-labels.json" in str(e.value)
  assert "something-something-v2-validation.json" in str(e.value)
  assert "something-something-v2-train.json" not in str(e.value).split(
      "\n")[0]


def test_missing_videos_are_named(tmp_path):
  video_dir = _make_release(tmp_path / "manual")
  os.remove(video_dir / "11.webm")
  with pytest.raises(FileNotFoundError, match=r"1 of 3 videos.*11\.webm"):
    _build(tmp_path, tmp_path / "manual")


def test_missing_manual_dir_gives_instructions(tmp_path):
  with pytest.raises(AssertionError, match="20bn-something-something-v2"):
    _build(tmp_path, tmp_path / "nowhere")


def test_corrupt_video_raises_with_its_name(tmp_path):
  video_dir = _make_release(tmp_path / "manual")
  (video_dir / "12.webm").write_bytes(np.random.default_rng(0).bytes(500))
  with pytest.raises(ValueError, match=r"12\.webm.*on_error='skip'"):
    _build(tmp_path, tmp_path / "manual")


def test_corrupt_video_is_skipped_and_counted(tmp_path, caplog):
  video_dir = _make_release(tmp_path / "manual")
  (video_dir / "12.webm").write_bytes(np.random.default_rng(0).bytes(500))
  with caplog.at_level(logging.WARNING):
    builder = _build(tmp_path, tmp_path / "manual", on_error="skip")
  assert sorted(_examples(builder, "train")) == ["10", "11"]
  assert "Skipped 1 undecodable videos of 3" in caplog.text
  assert "12.webm" in caplog.text


def test_config_rejects_bad_values():
  with pytest.raises(ValueError, match="on_error"):
    ssv2.SomethingSomethingV2Config(name="x", on_error="ignore")
