"""Tests for s2l/run_record.py."""

import json
import os
import re
import wave

import numpy as np
import pytest

from s2l import losses
from s2l import run_record
from s2l.datasets import audio_folder
from s2l.data import frontends
from s2l.data import patches
from s2l.data import sources


@pytest.mark.parametrize("part", [
    patches.Slicing(nx=3, ny=3, gap=4, jitter=True, normalize=False),
    frontends.AudioFrontend(num_mel_bins=None, frame_step=128),
    frontends.ImageFrontend(size=48),
    frontends.VideoFrontend(num_frames=6, size=16),
    losses.PerturbedFenchelYoungLoss(epsilon=0.5, num_samples=3),
    losses.SoftRankLoss(regularization_strength=0.1),
    losses.RankMSELoss(),
    losses.FixedPermutationLoss(num_items=4, num_permutations=6),
    losses.ListMLELoss(temperature=2.0),
    losses.ApproxNDCGLoss(),
])
def test_parts_rebuild_from_their_json(part):
  description = json.loads(json.dumps(run_record.describe(part)))
  rebuilt = run_record.build(description)
  assert type(rebuilt) is type(part)
  assert run_record.describe(rebuilt) == description
  if hasattr(part, "get_config"):
    assert rebuilt.get_config() == part.get_config()
  else:
    assert rebuilt == part


def test_registered_sources_are_recorded_by_name():
  description = run_record.describe_source("synthetic_notes_tiny")
  assert description == {"name": "synthetic_notes_tiny"}
  assert run_record.build_source(description) is sources.get(
      "synthetic_notes_tiny")
  assert run_record.describe_source(sources.get("nsynth")) == {
      "name": "nsynth"}


def _write_folder(root):
  """A one-file audio folder: 0.1 s of a tone at 8 kHz."""
  tone = 8000 * np.sin(np.arange(800) * 2 * np.pi * 440 / 8000)
  with wave.open(str(root / "a.wav"), "wb") as f:
    f.setnchannels(1)
    f.setsampwidth(2)
    f.setframerate(8000)
    f.writeframes(tone.astype(np.int16).tobytes())


def test_an_audio_folder_is_recorded_with_its_arguments(tmp_path):
  _write_folder(tmp_path)
  (tmp_path / "notes.csv").write_text("path,kind,pitch,split\n"
                                      "a.wav,x,60,train\n")
  folder = audio_folder.AudioFolder(
      str(tmp_path), manifest="notes.csv", label_columns=("kind",),
      regression_columns=("pitch",), split_column="split", duration_s=0.1)
  description = json.loads(json.dumps(run_record.describe_source(folder)))
  assert description["name"] == f"audio_folder:{tmp_path}"
  assert description["class"] == "AudioFolder"
  assert description["args"]["root"] == str(tmp_path)
  assert description["args"]["drop_silent"] is False
  rebuilt = run_record.build_source(description)
  assert rebuilt.name == folder.name and rebuilt.splits == folder.splits
  assert set(rebuilt.tasks) == {"kind", "pitch"}
  assert rebuilt.num_samples == 1600  # 0.1 s at 16 kHz.


def test_a_record_from_before_drop_silent_resumes_with_its_default(tmp_path):
  _write_folder(tmp_path)
  (tmp_path / "notes.csv").write_text("path\na.wav\n")
  folder = audio_folder.AudioFolder(str(tmp_path), manifest="notes.csv",
                                    duration_s=0.1)
  new = {"source": run_record.describe_source(folder), "seed": 0}
  old = json.loads(json.dumps(new))
  del old["source"]["args"]["drop_silent"]
  run_dir = tmp_path / "run"
  run_dir.mkdir()
  (run_dir / run_record.RECORD_FILE).write_text(json.dumps(
      {"format": run_record.FORMAT, **old}))
  assert run_record.read(str(run_dir))["source"] == json.loads(
      json.dumps(new["source"]))
  assert run_record.check_resume(str(run_dir), new) == []
  dropping = audio_folder.AudioFolder(str(tmp_path), manifest="notes.csv",
                                      duration_s=0.1, drop_silent=True)
  with pytest.raises(run_record.RecordError, match="drop_silent"):
    run_record.check_resume(
        str(run_dir), {**new, "source": run_record.describe_source(dropping)})


def test_unknown_parts_are_refused_with_the_known_ones():
  with pytest.raises(run_record.RecordError, match="known parts"):
    run_record.build({"class": "Mystery", "args": {}})
  with pytest.raises(run_record.RecordError, match="cannot record"):
    run_record.describe(object())


def test_write_read_and_resume_checks(tmp_path):
  record = {"source": {"name": "synthetic_notes"},
            "slicing": run_record.describe(patches.Slicing()),
            "network": {"width": 0.25, "patch_shape": (12, 8)},
            "seed": 0, "train_steps": 100, "learning_rate": 1e-5}
  with pytest.raises(run_record.RecordError, match="written by s2l.train"):
    run_record.read(str(tmp_path))
  run_record.check_resume(str(tmp_path), record)  # Nothing to check yet.
  run_record.write(str(tmp_path), record)
  read = run_record.read(str(tmp_path))
  assert read["format"] == run_record.FORMAT
  assert read["network"]["patch_shape"] == [12, 8]
  # The schedule may change on resume...
  run_record.check_resume(str(tmp_path), {**record, "train_steps": 400,
                                          "learning_rate": 1e-6})
  # ...the data, patches, network and seed may not; each change is named.
  changed = {**record, "seed": 1,
             "slicing": run_record.describe(patches.Slicing(ny=8))}
  assert len(run_record.differences(read, changed)) == 2
  with pytest.raises(run_record.RecordError,
                     match=r"(?s)slicing: recorded .*\"ny\": 10.*seed: "
                     r"recorded 0, now 1.*new --model_dir"):
    run_record.check_resume(str(tmp_path), changed)
  (tmp_path / run_record.RECORD_FILE).write_text(json.dumps({"format": 99}))
  with pytest.raises(run_record.RecordError, match="format 99"):
    run_record.read(str(tmp_path))


def test_a_record_from_before_precisions_reads_as_float32(tmp_path):
  old = {"source": {"name": "synthetic_notes"}, "network": {"width": 0.25},
         "seed": 0}
  (tmp_path / run_record.RECORD_FILE).write_text(json.dumps(
      {"format": run_record.FORMAT, **old}))
  assert run_record.read(str(tmp_path))["precision"] == "float32"
  # It resumes in float32, and in no other precision.
  assert run_record.check_resume(str(tmp_path),
                                 {**old, "precision": "float32"}) == []
  with pytest.raises(run_record.RecordError, match=re.escape(
      'precision: recorded "float32", now "mixed_float16"')):
    run_record.check_resume(str(tmp_path),
                            {**old, "precision": "mixed_float16"})
  run_record.write(str(tmp_path), {**old, "precision": "mixed_bfloat16"})
  assert run_record.read(str(tmp_path))["precision"] == "mixed_bfloat16"


def test_the_record_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
  old = {"source": {"name": "synthetic_notes"}, "seed": 0}
  run_record.write(str(tmp_path), old)

  def fail(src, dst):
    raise OSError(f"preempted before renaming {src} to {dst}")

  # Written to a temporary file, then renamed: a failed rename leaves the
  # previous record as it was, and no temporary file.
  monkeypatch.setattr(os, "replace", fail)
  with pytest.raises(OSError, match="preempted"):
    run_record.write(str(tmp_path), {**old, "seed": 1})
  assert run_record.read(str(tmp_path))["seed"] == 0
  assert os.listdir(tmp_path) == [run_record.RECORD_FILE]


@pytest.mark.parametrize("name", sorted(losses.REGISTRY))
def test_every_registered_loss_round_trips_through_the_record(name):
  loss = losses.get(name)
  description = json.loads(json.dumps(run_record.describe(loss)))
  rebuilt = run_record.build(description)
  assert type(rebuilt) is type(loss)
  assert rebuilt.get_config() == loss.get_config()


def test_an_unknown_part_names_the_known_ones():
  with pytest.raises(run_record.RecordError, match="ListMLELoss.*Slicing|"
                     "Slicing.*ListMLELoss"):
    run_record.build({"class": "GoneLoss", "args": {}})
