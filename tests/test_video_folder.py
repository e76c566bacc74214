"""Tests for s2l/datasets/video_folder.py: a user's clips with a manifest."""

import csv
import json
import os
import subprocess
import sys

import av
import numpy as np
import pytest

from s2l import run_record
from s2l.data import frontends
from s2l.data import patches
from s2l.data import pipeline
from s2l.datasets import video_folder
from s2l.datasets.video_folder import VideoFolder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _write_clip(path, frames):
  """[T, H, W, 3] uint8 frames to an MPEG-4 file with PyAV."""
  with av.open(str(path), "w") as container:
    stream = container.add_stream("mpeg4", rate=12)
    stream.height, stream.width = frames.shape[1:3]
    stream.pix_fmt = "yuv420p"
    for frame in frames:
      for packet in stream.encode(av.VideoFrame.from_ndarray(frame, "rgb24")):
        container.mux(packet)
    for packet in stream.encode():
      container.mux(packet)


def _moving_square(direction, length=24, side=32):
  """A white square crossing a dark frame left to right or back."""
  frames = np.full((length, side, side, 3), 20, np.uint8)
  for t in range(length):
    x = int(round(t * (side - 8) / (length - 1)))
    if direction == "left":
      x = side - 8 - x
    frames[t, 12:20, x:x + 8] = 235
  return frames


def _folder(root, count=12, split=True):
  rows = []
  for i in range(count):
    direction = ("left", "right")[i % 2]
    name = f"clip_{i:02d}.mp4"
    _write_clip(root / name, _moving_square(direction))
    row = {"path": name, "action": f"pushing {direction}"}
    if split:
      row["split"] = ("train", "train", "validation", "test")[i % 4]
    rows.append(row)
  _write(root, rows)
  return rows


def _write(root, rows):
  with open(root / "manifest.csv", "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)


def test_clips_are_sampled_resized_and_labelled(tmp_path):
  _folder(tmp_path)
  clips = VideoFolder(str(tmp_path), label_columns=("action",),
                      split_column="split", num_frames=6, size=16)
  assert clips.splits == {"train": 6, "validation": 3, "test": 3}
  assert clips.tasks["action"].num_classes == 2
  assert clips.class_names("action") == ["pushing left", "pushing right"]
  first = next(iter(clips.load("train")))
  assert first["video"].shape == (6, 16, 16, 3)
  assert first["video"].dtype.name == "uint8"
  assert int(first["action"]) == 0  # clip_00 pushes left.
  # Frames 0, 5, ..., 23 of 24, in order: the square moves right to left.
  video = first["video"].numpy().astype(float).mean(axis=(1, 3))
  centres = (video * np.arange(16)).sum(1) / video.sum(1)
  assert np.all(np.diff(centres) < 0)
  np.testing.assert_array_equal(video_folder.uniform_indices(24, 6),
                                [0, 5, 9, 14, 18, 23])


def test_every_bad_clip_is_named_with_its_line(tmp_path):
  rows = _folder(tmp_path, count=6)
  (tmp_path / "clip_01.mp4").write_text("not a video")
  _write_clip(tmp_path / "clip_03.mp4", _moving_square("left", length=4))
  os.remove(tmp_path / "clip_04.mp4")
  _write_clip(tmp_path / "clip_05.mp4", np.full((24, 32, 32, 3), 90,
                                                np.uint8))
  with pytest.raises(ValueError) as refused:
    VideoFolder(str(tmp_path), label_columns=("action",), num_frames=6,
                size=16)
  message = str(refused.value)
  assert "4 of the 6 files listed in manifest.csv cannot be used" in message
  assert ("Line 7: " in message and
          "clip_05.mp4: a single colour throughout" in message)
  assert "Line 3: " in message and "clip_01.mp4: FFmpeg cannot read" in message
  assert ("Line 5: " in message and
          "clip_03.mp4: too short: 4 frames, fewer than the 6" in message)
  assert "Line 6: " in message and "clip_04.mp4: file not found" in message
  clips = VideoFolder(str(tmp_path), label_columns=("action",), num_frames=6,
                      size=16, on_error="skip")
  assert len(clips.skipped) == 4 and sum(clips.splits.values()) == 2
  rows[0]["path"] = "clip.gif"
  _write(tmp_path, rows)
  with pytest.raises(ValueError, match="Line 2: clip.gif is not one of"):
    VideoFolder(str(tmp_path))


def test_the_folder_feeds_the_frame_pipeline_and_its_record(tmp_path):
  _folder(tmp_path, split=False)
  clips = VideoFolder(str(tmp_path), label_columns=("action",), num_frames=6,
                      size=16, split_fractions=(0.5, 0.25, 0.25))
  assert clips.splits["validation"] > 0
  assert sum(clips.splits.values()) == 12
  rebuilt = run_record.build_source(run_record.describe_source(clips))
  assert rebuilt.config == clips.config and rebuilt.splits == clips.splits
  # Frames are the patches: the slicing's grid is not used.
  ds = pipeline.pretext_dataset(
      clips, "train", slicing=patches.Slicing(1, 10), batch_size=2,
      frontend=frontends.VideoFrontend(num_frames=6, size=16), seed=0,
      repeat=False)
  frames, ranks = next(iter(ds))
  assert frames.shape[:2] == (2, 6)
  assert sorted(ranks[0].numpy().tolist()) == list(range(1, 7))


@pytest.mark.slow  # ~40 s; `make test-all` runs it.
def test_a_folder_trains_then_probes_from_the_command_line(tmp_path):
  folder = tmp_path / "clips"
  folder.mkdir()
  _folder(folder, count=16)
  run = tmp_path / "run"

  def command(*args):
    result = subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
        text=True, timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr[-3000:]

  # The README's commands.
  command("s2l.train", "--gin_file=gin/physics_video_frames20.gin",
          "--gin_file=gin/sources/video_folder.gin",
          f"--gin_param=VideoFolder.root='{folder}'",
          "--gin_param=VideoFolder.label_columns=('action',)",
          "--gin_param=VideoFolder.split_column='split'",
          "--gin_param=VideoFolder.num_frames = 6",
          "--gin_param=VideoFolder.size = 16",
          "--gin_param=VideoFrontend.num_frames = 6",
          "--gin_param=VideoFrontend.size = 16",
          *[f"--gin_param={p}" for p in (
              "train.width = 0.03", "train.depth = 2",
              "train.embedding_size = 64", "train.batch_size = 2",
              "train.eval_batches = 1", "train.train_steps = 4",
              "train.steps_per_checkpoint = 2")], f"--model_dir={run}")
  command("s2l.evaluate", f"--model_dir={run}",
          "--gin_param=evaluate.num_examples=(4,)",
          "--gin_param=evaluate.seeds=(0,)", "--gin_param=evaluate.epochs=2")
  with open(run / "probe.json") as f:
    report = json.load(f)
  assert report["source"] == f"video_folder:{folder}"
  assert report["head"] == "mlp"
  cell = report["results"]["action"]["pretrained"]["4"]
  assert cell["metric"] == "accuracy" and 0.0 <= cell["mean"] <= 1.0
