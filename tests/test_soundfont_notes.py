"""Tests for s2l/datasets/soundfont_notes.py."""

import csv
import glob
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from s2l.datasets import audio_folder
from s2l.datasets import embedded
from s2l.datasets import soundfont as sf
from s2l.datasets import soundfont_notes as sfn
import sf2_writer as w

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The fixture's programs: a piano that only sounds from MIDI 60 up (its
# range is 36-96, so lower draws are silent), a bass and a flute.
FIXTURE_PROGRAMS = (0, 32, 73)


@pytest.fixture(name="sf2_path", scope="module")
def _sf2_path(tmp_path_factory):
  looped = {w.SAMPLE_MODES: 1, w.RELEASE: w.timecents(0.3)}
  samples = [{"name": "sine500", "data": w.sine(500, 32000, 3264),
              "rate": 32000, "root": 60, "loop": (1600, 3200)}]
  instruments = [
      {"name": "upper", "zones": [{w.KEY_RANGE: (60, 127), w.SAMPLE_ID: 0,
                                   **looped}]},
      {"name": "all", "zones": [{w.SAMPLE_ID: 0, **looped}]}]
  presets = [
      {"name": "UpperPiano", "bank": 0, "program": 0,
       "zones": [{w.INSTRUMENT: 0}]},
      {"name": "Bass", "bank": 0, "program": 32,
       "zones": [{w.INSTRUMENT: 1}]},
      {"name": "Flute", "bank": 0, "program": 73,
       "zones": [{w.INSTRUMENT: 1}]},
      # Percussion and drum kits are not drawn.
      {"name": "Drums", "bank": 128, "program": 0,
       "zones": [{w.INSTRUMENT: 1}]}]
  return w.write_sf2(tmp_path_factory.mktemp("sf2") / "fixture.sf2", samples,
                     instruments, presets)


def _fixture_config(sf2_path):
  return sfn.SoundFontNotesConfig(
      name="fixture", sf2_path=sf2_path, duration_s=1.0, num_train=24,
      num_validation=12, num_test=12)


def _load(data_dir, config):
  """Builds a config; returns (builder, {split: [examples as numpy]})."""
  builder = tfds.builder("s2l_soundfont_notes", config=config,
                         data_dir=str(data_dir))
  builder.download_and_prepare()
  return builder, {split: list(tfds.as_numpy(builder.as_dataset(split=split)))
                   for split in sfn.SPLITS}


@pytest.fixture(name="tiny", scope="module")
def _tiny(tmp_path_factory):
  if importlib.util.find_spec("pretty_midi") is None:
    pytest.skip("pretty_midi (the default SoundFont) is not installed.")
  data_dir = tmp_path_factory.mktemp("tiny_a")
  return (data_dir,) + _load(data_dir, "tiny")


@pytest.fixture(name="fixture_build", scope="module")
def _fixture_build(tmp_path_factory, sf2_path):
  return _load(tmp_path_factory.mktemp("fixture"), _fixture_config(sf2_path))


def _records(data_dir):
  files = sorted(glob.glob(os.path.join(
      str(data_dir), "s2l_soundfont_notes", "*", "*", "*.tfrecord*")))
  assert files
  return {os.path.basename(f): open(f, "rb").read() for f in files}


# --- the builder ------------------------------------------------------------


def test_builder_is_registered_with_its_configs(tmp_path):
  builder = tfds.builder("s2l_soundfont_notes", data_dir=str(tmp_path))
  assert isinstance(builder, sfn.SoundFontNotes)
  assert str(builder.version) == "1.0.0"
  config = builder.builder_config
  assert (config.name, config.duration_s, config.sample_rate) == (
      "default", 4.0, 16000)
  assert config.counts == {"train": 6000, "validation": 500, "test": 1000}
  assert config.sf2_path is None
  assert [c.name for c in sfn.SoundFontNotes.BUILDER_CONFIGS] == [
      "default", "tiny"]
  features = builder.info.features
  assert set(features.keys()) == {"audio", "id", "instrument", "pitch",
                                  "velocity"}
  assert isinstance(features["audio"], embedded.RawAudio)
  assert features["audio"].shape == (64000,)
  assert features["audio"].dtype == tf.int16
  assert tuple(features["instrument"]["family"].names) == sfn.FAMILY_NAMES
  assert len(sfn.FAMILY_NAMES) == 14
  assert features["instrument"]["label"].names[0] == "acoustic_grand_piano"
  assert features["instrument"]["label"].num_classes == 112
  assert features["pitch"].num_classes == 128
  assert features["velocity"].dtype == tf.int64


def test_tiny_splits_labels_and_levels(tiny):
  _, builder, examples = tiny
  dropped = builder.info.metadata["silent_dropped"]
  for split, exs in examples.items():
    assert len(exs) == builder.builder_config.counts[split] - dropped[split]
    for ex in exs:
      audio, program = ex["audio"], ex["instrument"]["label"]
      assert audio.shape == (16000,) and audio.dtype == np.int16
      assert ex["instrument"]["family"] == program // 8
      low, high = sfn.pitch_range(program)
      assert low <= ex["pitch"] <= high
      assert ex["velocity"] in sfn.VELOCITIES
      assert ex["id"].decode() == sfn.note_id(program, ex["pitch"],
                                              ex["velocity"])
      peak = np.abs(audio.astype(np.int32)).max() / 32767
      assert peak == pytest.approx(0.9 * (ex["velocity"] / 127)**2,
                                   abs=1 / 32767)
      assert not audio[-16:].any()
  families = {ex["instrument"]["family"] for ex in examples["train"]}
  assert len(families) >= 8


def test_two_builds_are_identical_bytes(tiny, tmp_path):
  data_dir, _, _ = tiny
  _load(tmp_path, "tiny")
  assert _records(tmp_path) == _records(data_dir)


def test_notes_are_a_function_of_seed_split_and_index(tiny):
  _, builder, examples = tiny
  config = builder.builder_config
  font, programs, _ = sfn.load_soundfont(config)
  first = {}
  for index, note, audio in sfn.render_split(config, font, programs, "test"):
    if audio is not None:
      first = (index, note, audio)
      break
  index, note, audio = first
  assert note == sfn.draw_note(config.seed, "test", index, programs,
                               config.counts)
  ex = next(ex for ex in examples["test"]
            if ex["id"].decode() == sfn.note_id(
                note["program"], note["pitch"], note["velocity"]))
  np.testing.assert_array_equal(ex["audio"], audio)


def test_splits_share_no_note_and_notes_do_not_repeat():
  config = sfn.SoundFontNotes.builder_configs["default"]
  programs = tuple(range(sfn.NUM_PROGRAMS))
  notes = {split: [tuple(sfn.draw_note(0, split, i, programs, config.counts)
                         .values()) for i in range(config.counts[split])]
           for split in sfn.SPLITS}
  for split, drawn in notes.items():
    assert len(set(drawn)) == len(drawn)
    # Every program the same number of times, +-1.
    per_program = np.bincount([n[0] for n in drawn], minlength=112)
    assert per_program.max() - per_program.min() <= 1, split
    for program, family, pitch, velocity in drawn:
      assert family == program // 8 and velocity in sfn.VELOCITIES
      low, high = sfn.pitch_range(program)
      assert low <= pitch <= high
  sets = [set(n) for n in notes.values()]
  assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
  # Pitches cover each program's range, bass's 28 to 55 say.
  bass = {n[2] for n in notes["train"] if n[1] == 4}
  assert bass == set(range(28, 56))
  other_seed = [tuple(sfn.draw_note(1, "test", i, programs, config.counts)
                      .values()) for i in range(config.counts["test"])]
  assert other_seed != notes["test"]


def test_small_splits_still_own_notes_of_every_program():
  counts = {"train": 1000, "validation": 1, "test": 1}
  programs = (4, 33)
  for split in sfn.SPLITS:
    drawn = {sfn.draw_note(0, split, i, programs, counts)["program"]
             for i in range(min(counts[split], 2))}
    assert len(drawn) == min(counts[split], 2)
  # Asking for more notes than a split owns repeats them, in order.
  counts = {"train": 10, "validation": 300, "test": 10}
  drawn = [tuple(sfn.draw_note(0, "validation", i, programs, counts).values())
           for i in range(300)]
  assert len(set(drawn)) < 300 and drawn[:2] != drawn[2:4]


def test_silent_renders_are_dropped_and_counted(fixture_build, sf2_path):
  builder, examples = fixture_build
  config = builder.builder_config
  metadata = builder.info.metadata
  assert metadata["sf2"] == "fixture.sf2"
  assert metadata["missing_programs"] == [
      p for p in range(112) if p not in FIXTURE_PROGRAMS]
  for split in sfn.SPLITS:
    notes = [sfn.draw_note(config.seed, split, i, FIXTURE_PROGRAMS,
                           config.counts) for i in range(config.counts[split])]
    silent = [n for n in notes if n["program"] == 0 and n["pitch"] < 60]
    assert metadata["silent_dropped"][split] == len(silent)
    kept = [sfn.note_id(n["program"], n["pitch"], n["velocity"])
            for n in notes if n not in silent]
    assert sorted(ex["id"].decode() for ex in examples[split]) == sorted(kept)
    assert builder.info.splits[split].num_examples == len(kept)
  assert sum(metadata["silent_dropped"].values()) > 0
  labels = {ex["instrument"]["label"] for exs in examples.values()
            for ex in exs}
  assert labels == set(FIXTURE_PROGRAMS)


def test_write_folder_is_read_by_audio_folder(fixture_build, sf2_path,
                                              tmp_path):
  _, examples = fixture_build
  written = sfn.write_folder(str(tmp_path), _fixture_config(sf2_path))
  assert written == {split: len(exs) for split, exs in examples.items()}
  with open(tmp_path / "manifest.csv", newline="") as f:
    rows = list(csv.DictReader(f))
  assert tuple(rows[0]) == sfn.MANIFEST_COLUMNS
  folder = audio_folder.AudioFolder(
      str(tmp_path), label_columns=("family", "instrument"),
      regression_columns=("pitch", "velocity"), split_column="split",
      duration_s=1.0)
  assert folder.splits == written
  assert folder.class_names("family") == ["bass", "piano", "pipe"]
  by_id = {ex["id"].decode(): ex for ex in examples["validation"]}
  for ex in folder.as_dataset("validation").as_numpy_iterator():
    name = os.path.basename(ex["path"].decode())[len("00000-"):-len(".wav")]
    original = by_id[name]
    np.testing.assert_array_equal(np.round(ex["audio"] * 32768),
                                  original["audio"])
    assert ex["pitch"] == original["pitch"]
    assert ex["velocity"] == original["velocity"]
    assert folder.class_names("instrument")[ex["instrument"]] == (
        sfn.PROGRAM_NAMES[original["instrument"]["label"]])


# The module's command line, and the one it had in s2l/data/, which still runs.
@pytest.mark.parametrize("module", ["s2l.datasets.soundfont_notes",
                                    "s2l.data.soundfont_notes"])
def test_command_line_writes_a_folder(sf2_path, tmp_path, module):
  out = tmp_path / "notes"
  result = subprocess.run(
      [sys.executable, "-m", module, f"--sf2={sf2_path}",
       f"--output_dir={out}", "--num_train=3", "--num_validation=2",
       "--num_test=2", "--seed=5"],
      cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
  assert result.returncode == 0, result.stderr[-2000:]
  with open(out / "manifest.csv", newline="") as f:
    rows = list(csv.DictReader(f))
  assert 0 < len(rows) <= 7
  assert {r["split"] for r in rows} <= set(sfn.SPLITS)
  assert all((out / r["path"]).is_file() for r in rows)


# --- configuration and errors ---------------------------------------------


def test_families_ranges_and_names():
  assert len(sfn.PROGRAM_NAMES) == sfn.NUM_PROGRAMS == 112
  assert len(set(sfn.PROGRAM_NAMES)) == 112
  assert [sfn.family(p) for p in (0, 7, 8, 32, 111)] == [0, 0, 1, 4, 13]
  assert sfn.FAMILY_NAMES[sfn.family(73)] == "pipe"
  assert sfn.pitch_range(33) == (28, 55)
  bass, pipe = sfn.PITCH_RANGES[4], sfn.PITCH_RANGES[9]
  assert bass[1] < pipe[0]  # A bass plays low and a flute high...
  for pitch in range(60, 85):  # ... but 13 of 14 families play 60-84.
    playing = [f for f, (low, high) in enumerate(sfn.PITCH_RANGES)
               if low <= pitch <= high]
    assert len(playing) == 13, pitch
  with pytest.raises(ValueError, match="program must be"):
    sfn.family(112)


def test_config_validation(tmp_path):
  with pytest.raises(ValueError, match="positive count"):
    sfn.SoundFontNotesConfig(name="bad", num_test=0)
  with pytest.raises(ValueError, match="sample_rate 4000"):
    sfn.SoundFontNotesConfig(name="bad", sample_rate=4000)
  with pytest.raises(ValueError, match="duration_s"):
    sfn.SoundFontNotesConfig(name="bad", duration_s=0.0)
  missing = str(tmp_path / "missing.sf2")
  builder = tfds.builder("s2l_soundfont_notes",
                         config=_fixture_config(missing),
                         data_dir=str(tmp_path))
  with pytest.raises(FileNotFoundError, match="missing.sf2"):
    builder.download_and_prepare()


def test_default_soundfont_needs_pretty_midi(monkeypatch):
  if importlib.util.find_spec("pretty_midi") is not None:
    path = sfn.default_sf2_path()
    assert path.endswith("TimGM6mb.sf2") and os.path.isfile(path)
  monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
  with pytest.raises(ImportError, match="pip install pretty_midi==0.2.11"):
    sfn.default_sf2_path()


def test_drums_and_missing_programs_are_not_drawn(sf2_path):
  font, programs, missing = sfn.load_soundfont(_fixture_config(sf2_path))
  assert isinstance(font, sf.SoundFont)
  assert programs == FIXTURE_PROGRAMS and len(missing) == 109

