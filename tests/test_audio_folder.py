"""Tests for s2l/datasets/audio_folder.py on audio files written here."""

import csv
import logging
import re
import struct
import wave

import numpy as np
import pytest
import tensorflow as tf

from s2l.datasets import audio_folder
from s2l.datasets import folder
from s2l.datasets.audio_folder import AudioFolder

def _tone(freq, rate, seconds, channels=1):
  """[samples, channels] int16 sine at half scale."""
  t = np.arange(int(rate * seconds)) / rate
  x = (0.5 * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)
  return np.repeat(x[:, None], channels, axis=1)


def _write_wav(path, samples, rate):
  with wave.open(str(path), "wb") as f:
    f.setnchannels(samples.shape[1])
    f.setsampwidth(2)
    f.setframerate(rate)
    f.writeframes(samples.tobytes())


def _write_float_wav(path, samples, rate):
  """[samples] float32 as a mono IEEE-float WAV (format 3), NaN and all."""
  data = np.asarray(samples, "<f4").tobytes()
  fmt = struct.pack("<HHIIHH", 3, 1, rate, 4 * rate, 4, 32)
  chunks = (b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" +
            struct.pack("<I", len(data)) + data)
  with open(path, "wb") as f:
    f.write(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks)


def _write_av(path, samples, rate, codec):
  """Encodes mono int16 samples with PyAV (flac or libmp3lame)."""
  av = pytest.importorskip("av")
  with av.open(str(path), "w") as container:
    stream = container.add_stream(codec, rate=rate)
    stream.layout = "mono"
    frame = av.AudioFrame.from_ndarray(samples.T.copy(), format="s16",
                                       layout="mono")
    frame.sample_rate = rate
    for packet in stream.encode(frame):
      container.mux(packet)
    for packet in stream.encode(None):
      container.mux(packet)


def _write_manifest(root, rows, name="manifest.csv"):
  with open(root / name, "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)


def _peak_hz(audio, rate):
  spectrum = np.abs(np.fft.rfft(audio))
  return np.argmax(spectrum) * rate / len(audio)


@pytest.fixture
def folder_dir(tmp_path):
  """Four WAVs: mono, stereo, 8 kHz and 2 s long; with labels and splits."""
  _write_wav(tmp_path / "mono.wav", _tone(440, 16000, 1.0), 16000)
  _write_wav(tmp_path / "stereo.wav", _tone(1000, 16000, 1.0, 2), 16000)
  (tmp_path / "sub").mkdir()
  _write_wav(tmp_path / "sub/low.wav", _tone(300, 8000, 0.5), 8000)
  _write_wav(tmp_path / "long.wav", _tone(2000, 16000, 2.0), 16000)
  _write_manifest(tmp_path, [
      {"path": "mono.wav", "family": "piano", "note": "9", "pitch": "69",
       "split": "train"},
      {"path": "stereo.wav", "family": "guitar", "note": "10", "pitch": "83.5",
       "split": "train"},
      {"path": "sub/low.wav", "family": "piano", "note": "2", "pitch": "62",
       "split": "validation"},
      {"path": "long.wav", "family": "bass", "note": "10", "pitch": "95",
       "split": "train"},
  ])
  return tmp_path


def _load(folder, split):
  return {ex["path"].decode().rsplit("/", 1)[-1]: ex
          for ex in folder.as_dataset(split).as_numpy_iterator()}


def test_audio_is_mono_resampled_and_fit_to_length(folder_dir):
  folder = AudioFolder(str(folder_dir), duration_s=1.0, split_column="split")
  train, validation = _load(folder, "train"), _load(folder, "validation")
  for ex in [*train.values(), *validation.values()]:
    assert ex["audio"].shape == (16000,) and ex["audio"].dtype == np.float32
  # 16-bit WAV decodes to int16 / 32768, exactly.
  np.testing.assert_allclose(train["mono.wav"]["audio"],
                             _tone(440, 16000, 1.0)[:, 0] / 32768.0)
  assert _peak_hz(train["stereo.wav"]["audio"], 16000) == pytest.approx(1000)
  # The 2 s clip keeps its first second.
  np.testing.assert_allclose(train["long.wav"]["audio"],
                             _tone(2000, 16000, 1.0)[:, 0] / 32768.0)
  # 0.5 s at 8 kHz becomes 8000 samples at 16 kHz, then zero padding.
  low = validation["low.wav"]["audio"]
  assert _peak_hz(low[:8000], 16000) == pytest.approx(300, abs=2)
  assert np.abs(low[:8000]).max() > 0.4
  np.testing.assert_array_equal(low[8100:], 0.0)


def test_labels_map_to_sorted_class_ids(folder_dir):
  folder = AudioFolder(str(folder_dir), label_columns=("family", "note"),
                       regression_columns=("pitch",), split_column="split")
  assert folder.class_names("family") == ["bass", "guitar", "piano"]
  # Integer categories sort numerically, not as strings.
  assert folder.class_names("note") == ["2", "9", "10"]
  assert folder.num_classes("note") == 3
  train = _load(folder, "train")
  assert {k: (ex["family"], ex["note"], ex["pitch"])
          for k, ex in train.items()} == {
              "mono.wav": (2, 1, 69.0), "stereo.wav": (1, 2, 83.5),
              "long.wav": (0, 2, 95.0)}
  spec = folder.as_dataset("train").element_spec
  assert spec["family"].dtype == tf.int64 and spec["pitch"].dtype == tf.float32
  with pytest.raises(KeyError, match="label columns are"):
    folder.class_names("pitch")


def test_split_column(folder_dir):
  folder = AudioFolder(str(folder_dir), split_column="split")
  assert folder.splits == {"train": 3, "validation": 1}
  with pytest.raises(ValueError, match=r"Unknown split 'test'.*'train'"):
    folder.as_dataset("test")


def test_bad_split_values_are_listed(tmp_path):
  _write_wav(tmp_path / "a.wav", _tone(440, 16000, 0.1), 16000)
  _write_manifest(tmp_path, [{"path": "a.wav", "split": "dev"}])
  with pytest.raises(ValueError, match=r"\['dev'\].*'validation'"):
    AudioFolder(str(tmp_path), split_column="split")


def test_hash_split_is_deterministic_and_order_free(tmp_path):
  clip = _tone(440, 16000, 0.05)
  rows = []
  for i in range(60):
    _write_wav(tmp_path / f"{i}.wav", clip, 16000)
    rows.append({"path": f"{i}.wav"})
  _write_manifest(tmp_path, rows)
  _write_manifest(tmp_path, rows[::-1], name="reversed.csv")

  def assignment(folder):
    return {split: sorted(ex["path"].decode()
                          for ex in folder.as_dataset(split).as_numpy_iterator())
            for split in folder.splits}

  first = assignment(AudioFolder(str(tmp_path), duration_s=0.1))
  assert first == assignment(AudioFolder(str(tmp_path), duration_s=0.1,
                                         manifest="reversed.csv"))
  sizes = [len(first[s]) for s in audio_folder.SPLITS]
  assert sum(sizes) == 60 and sizes[0] > sizes[1] and sizes[0] > sizes[2]
  # Pinned values: a change of hash would silently reshuffle users' splits.
  assert [folder.hash_split(f"{i}.wav", (0.5, 0.25, 0.25))
          for i in range(6)] == ["train", "train", "test", "train",
                                 "validation", "train"]
  everything = AudioFolder(str(tmp_path), duration_s=0.1,
                           split_fractions=(1.0, 0.0, 0.0),
                           validation_fraction=0.0)
  assert everything.splits == {"train": 60, "validation": 0, "test": 0}


def test_validation_is_carved_from_train_when_missing(tmp_path, caplog):
  clip = _tone(440, 16000, 0.05)
  rows = []
  for i in range(40):
    _write_wav(tmp_path / f"{i}.wav", clip, 16000)
    rows.append({"path": f"{i}.wav", "split": "test" if i < 10 else "train"})
  _write_manifest(tmp_path, rows)
  _write_manifest(tmp_path, rows[::-1], name="reversed.csv")

  def assignment(folder):
    return {split: sorted(ex["path"].decode().rsplit("/", 1)[-1]
                          for ex in folder.as_dataset(split).as_numpy_iterator())
            for split in folder.splits}

  with caplog.at_level(logging.INFO, logger="absl"):
    folder = AudioFolder(str(tmp_path), duration_s=0.1, split_column="split",
                         validation_fraction=0.2)
  assert folder.splits == {"train": 24, "validation": 6, "test": 10}
  assert folder.carved_validation == 6
  assert "6 of its 30 training files" in caplog.text
  first = assignment(folder)
  assert not set(first["validation"]) & set(first["train"])
  assert set(first["validation"]) <= {f"{i}.wav" for i in range(10, 40)}
  # The same files whatever the manifest's order.
  assert first == assignment(AudioFolder(
      str(tmp_path), duration_s=0.1, split_column="split",
      validation_fraction=0.2, manifest="reversed.csv"))
  # A split fraction of 0 for validation is carved too, by default 10%.
  assert AudioFolder(str(tmp_path), duration_s=0.1,
                     split_fractions=(1.0, 0.0, 0.0)).splits == {
                         "train": 36, "validation": 4, "test": 0}
  with pytest.raises(ValueError, match="validation_fraction"):
    AudioFolder(str(tmp_path), validation_fraction=1.0)


def test_flac_and_mp3(tmp_path):
  clip = _tone(440, 16000, 1.0)
  _write_av(tmp_path / "a.flac", clip, 16000, "flac")
  _write_av(tmp_path / "b.mp3", _tone(440, 22050, 1.0), 22050, "libmp3lame")
  _write_manifest(tmp_path, [{"path": "a.flac", "split": "train"},
                             {"path": "b.mp3", "split": "train"}])
  train = _load(AudioFolder(str(tmp_path), duration_s=1.0,
                            split_column="split", validation_fraction=0),
               "train")
  # FLAC is lossless.
  np.testing.assert_allclose(train["a.flac"]["audio"], clip[:, 0] / 32768.0)
  mp3 = train["b.mp3"]["audio"]
  assert mp3.shape == (16000,)
  assert _peak_hz(mp3, 16000) == pytest.approx(440, abs=2)


def test_fit_length_eager_and_in_dataset():
  audio = tf.range(5, dtype=tf.float32)
  np.testing.assert_array_equal(audio_folder.fit_length(audio, 3), [0, 1, 2])
  np.testing.assert_array_equal(audio_folder.fit_length(audio, 7),
                                [0, 1, 2, 3, 4, 0, 0])
  ds = tf.data.Dataset.from_tensors(audio).map(
      lambda a: audio_folder.fit_length(a, 7))
  assert ds.element_spec.shape == (7,)
  np.testing.assert_array_equal(next(iter(ds)), [0, 1, 2, 3, 4, 0, 0])


def test_missing_root_and_manifest(tmp_path):
  with pytest.raises(FileNotFoundError, match="nowhere does not exist"):
    AudioFolder(str(tmp_path / "nowhere"))
  with pytest.raises(FileNotFoundError, match="manifest.csv does not exist"):
    AudioFolder(str(tmp_path))


def test_missing_column_lists_found_columns(folder_dir):
  with pytest.raises(ValueError, match=r"\['instrument'\].*columns are "
                     r"\['path', 'family', 'note', 'pitch', 'split'\]"):
    AudioFolder(str(folder_dir), label_columns=("instrument",))
  with pytest.raises(ValueError, match=r"no column \['file'\]"):
    AudioFolder(str(folder_dir), path_column="file")


def test_bad_cells_are_named(folder_dir):
  with pytest.raises(ValueError, match=r"Line \d: column 'family' must be a "
                     "number, got 'piano'"):
    AudioFolder(str(folder_dir), regression_columns=("family",))
  _write_manifest(folder_dir, [{"path": "mono.wav", "family": ""}])
  with pytest.raises(ValueError, match=r"empty cells.*\(2, 'family'\)"):
    AudioFolder(str(folder_dir), label_columns=("family",))


@pytest.fixture
def broken_dir(folder_dir):
  """The WAV folder plus a corrupt WAV and a missing file in the manifest."""
  (folder_dir / "bad.wav").write_bytes(b"RIFF" + bytes(range(256)) * 4)
  with open(folder_dir / "manifest.csv", "a") as f:
    f.write("bad.wav,piano,2,60,train\ngone.wav,piano,2,60,train\n")
  return folder_dir


def test_corrupt_and_missing_files_raise_with_their_names(broken_dir):
  # Every failing file is named in one error, each with its line and reason.
  with pytest.raises(ValueError, match=r"(?s)2 of the 6 files listed in "
                     r"manifest.csv.*Line 6: .*bad\.wav: cannot decode: "
                     r".*WAVE.*Line 7: .*gone\.wav: file not found"
                     r".*on_error='skip'"):
    AudioFolder(str(broken_dir))
  (broken_dir / "bad.wav").unlink()
  with pytest.raises(FileNotFoundError, match=r"bad\.wav: file not found"):
    AudioFolder(str(broken_dir))


def test_skip_counts_and_logs_bad_files(broken_dir, caplog):
  with caplog.at_level(logging.WARNING):
    folder = AudioFolder(str(broken_dir), split_column="split",
                         label_columns=("family",), on_error="skip")
  assert [(p.rsplit("/", 1)[-1], r.split(":")[0]) for p, r in folder.skipped] \
      == [("bad.wav", "cannot decode"), ("gone.wav", "file not found")]
  assert "Skipped 2 of 6 files" in caplog.text
  assert folder.splits == {"train": 3, "validation": 1}
  assert len(list(folder.as_dataset("train"))) == 3


def test_unsupported_extension_and_bad_arguments(tmp_path):
  (tmp_path / "a.ogg").write_bytes(b"")
  _write_manifest(tmp_path, [{"path": "a.ogg"}])
  with pytest.raises(ValueError, match=r"a\.ogg is not one of the supported"):
    AudioFolder(str(tmp_path))
  with pytest.raises(ValueError, match="on_error must be one of"):
    AudioFolder(str(tmp_path), on_error="ignore")
  with pytest.raises(ValueError, match="split_fractions"):
    AudioFolder(str(tmp_path), split_fractions=(0.5, 0.5, 0.5))


def test_folder_feeds_the_pretext_and_downstream_pipelines(folder_dir):
  # pylint: disable=import-outside-toplevel
  from s2l.data import frontends
  from s2l.data import patches as patches_lib
  from s2l.data import pipeline
  folder = AudioFolder(str(folder_dir), duration_s=1.0, split_column="split",
                       label_columns=("family",), regression_columns=("pitch",))
  assert folder.tasks["family"].num_classes == 3
  assert folder.tasks["pitch"].kind == "regression"
  slicing = patches_lib.Slicing(nx=1, ny=4)
  frontend = frontends.AudioFrontend(num_mel_bins=32)
  patches, ranks = next(iter(pipeline.pretext_dataset(
      folder, slicing=slicing, frontend=frontend, batch_size=2)))
  assert patches.shape == (2, 4, 8, 1 + (16000 - 512) // 256, 1)
  assert sorted(ranks.numpy()[0]) == [1, 2, 3, 4]
  _, family = next(iter(pipeline.downstream_dataset(
      folder, "train", "family", slicing=slicing, frontend=frontend,
      batch_size=3)))
  # Train rows in manifest order: piano, guitar, bass; ids in sorted order.
  np.testing.assert_array_equal(family.numpy(), [2, 1, 0])
  _, pitch = next(iter(pipeline.downstream_dataset(
      folder, "train", "pitch", slicing=slicing, frontend=frontend,
      batch_size=3)))
  np.testing.assert_allclose(pitch.numpy(), [69.0, 83.5, 95.0])


def test_manifest_faults_name_the_manifest(tmp_path):
  _write_wav(tmp_path / "a.wav", _tone(440, 16000, 0.1), 16000)
  (tmp_path / "manifest.csv").write_bytes(
      "path,family\na.wav,cor anglais \u00e9\n".encode("latin-1"))
  with pytest.raises(ValueError, match=r"manifest.csv is not UTF-8 .*iconv"):
    AudioFolder(str(tmp_path), label_columns=("family",))
  (tmp_path / "manifest.csv").write_text("path,family\n")
  with pytest.raises(ValueError, match="manifest.csv lists no files"):
    AudioFolder(str(tmp_path), label_columns=("family",))


def test_a_file_changed_after_the_check_is_named(tmp_path):
  _write_wav(tmp_path / "a.wav", _tone(440, 16000, 0.1), 16000)
  _write_manifest(tmp_path, [{"path": "a.wav", "split": "train"}])
  folder = AudioFolder(str(tmp_path), split_column="split",
                       validation_fraction=0, duration_s=0.1)
  _write_wav(tmp_path / "a.wav", _tone(440, 16000, 0.2), 16000)
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r"(?s)changed since the folder was checked.*a\.wav"):
    list(folder.as_dataset("train"))


def _add_files(root, files):
  """Writes {name: (samples, rate, writer)} and lists them in the manifest
  (train split)."""
  with open(root / "manifest.csv", "a") as f:
    for name, (samples, rate, write) in files.items():
      write(root / name, samples, rate)
      f.write(f"{name},piano,2,60,train\n")


def _refusal(folder_dir, **kwargs):
  with pytest.raises(ValueError) as error:
    AudioFolder(str(folder_dir), split_column="split", **kwargs)
  return str(error.value)


def _named(message, name, reason):
  """Whether `message` names `name` on its own line with `reason`."""
  return re.search(rf"Line \d+: \S*/{re.escape(name)}: {reason}", message)


def test_an_empty_file_is_refused_by_name(folder_dir):
  # The user's report: it trained as 4 s of zero padding.
  _add_files(folder_dir, {"empty.wav": (np.zeros((0, 1), np.int16), 16000,
                                        _write_wav)})
  message = _refusal(folder_dir)
  assert _named(message, "empty.wav", "empty: no samples")
  assert "1 of the 5 files listed in manifest.csv" in message
  assert "Fix or remove" in message and "drop_silent" not in message


def test_a_file_shorter_than_one_analysis_frame_is_refused(folder_dir):
  # One window of the default spectrogram: 512 samples at 16 kHz, 256 at 8.
  assert audio_folder.MIN_DURATION_S == pytest.approx(0.032)
  _add_files(folder_dir, {
      "click.wav": (_tone(440, 16000, 511 / 16000), 16000, _write_wav),
      "frame.wav": (_tone(440, 16000, 512 / 16000), 16000, _write_wav),
      "low.wav": (_tone(440, 8000, 255 / 8000), 8000, _write_wav)})
  message = _refusal(folder_dir)
  assert _named(message, "click.wav", re.escape(
      "too short: 511 samples (31.9 ms at 16000 Hz), less than one 32 ms "
      "analysis frame"))
  assert _named(message, "low.wav", "too short: 255 samples")
  assert "frame.wav" not in message  # One whole frame is enough.


def test_a_float_wav_holding_nan_is_refused(folder_dir):
  clip = _tone(440, 16000, 0.1)[:, 0] / 32768.0
  nan, inf = clip.copy(), clip.copy()
  nan[100] = np.nan
  inf[[5, 6]] = [np.inf, -np.inf]
  _add_files(folder_dir, {"nan.wav": (nan, 16000, _write_float_wav),
                          "inf.wav": (inf, 16000, _write_float_wav),
                          "fine.wav": (clip, 16000, _write_float_wav)})
  message = _refusal(folder_dir)
  assert _named(message, "nan.wav", "non-finite samples: 1 of its 1600 "
                "samples are NaN or infinite")
  assert _named(message, "inf.wav", "non-finite samples: 2 of its 1600")
  assert "fine.wav" not in message
  # A finite float WAV is read, sample for sample.
  for name in ("nan.wav", "inf.wav"):
    (folder_dir / name).unlink()
  with open(folder_dir / "manifest.csv") as f:
    kept = [line for line in f if not line.startswith(("nan", "inf"))]
  (folder_dir / "manifest.csv").write_text("".join(kept))
  train = _load(AudioFolder(str(folder_dir), split_column="split",
                            duration_s=0.1), "train")
  np.testing.assert_allclose(train["fine.wav"]["audio"], clip, rtol=1e-6)


def test_an_all_zero_file_is_refused(folder_dir):
  _add_files(folder_dir, {"zero.wav": (np.zeros((16000, 1), np.int16), 16000,
                                       _write_wav),
                          "zero_float.wav": (np.zeros(1600), 16000,
                                             _write_float_wav)})
  message = _refusal(folder_dir)
  for name in ("zero.wav", "zero_float.wav"):
    assert _named(message, name, "digital silence: every sample is 0")
  assert "pass drop_silent=True" in message
  # on_error='skip' is for broken files; silence is refused all the same.
  assert "zero.wav" in _refusal(folder_dir, on_error="skip")


def test_silent_files_are_dropped_and_counted_on_request(folder_dir, caplog):
  _add_files(folder_dir, {"zero.wav": (np.zeros((16000, 2), np.int16), 16000,
                                       _write_wav)})
  with caplog.at_level(logging.WARNING):
    folder = AudioFolder(str(folder_dir), split_column="split",
                         drop_silent=True)
  assert folder.silent_dropped == [str(folder_dir / "zero.wav")]
  assert re.search(r"Dropped 1 silent files .* of 5 listed in manifest.csv "
                   r"\(drop_silent=True\): \[.*zero\.wav'\]", caplog.text)
  assert folder.splits == {"train": 3, "validation": 1}
  assert "zero.wav" not in _load(folder, "train")
  assert folder.config["drop_silent"] is True
  assert folder.skipped == []


def test_every_failing_file_is_named_in_one_error(folder_dir):
  _add_files(folder_dir, {
      "empty.wav": (np.zeros((0, 1), np.int16), 16000, _write_wav),
      "click.wav": (_tone(440, 16000, 0.01), 16000, _write_wav),
      "nan.wav": (np.full(1600, np.nan), 16000, _write_float_wav),
      "zero.wav": (np.zeros((16000, 1), np.int16), 16000, _write_wav)})
  message = _refusal(folder_dir)
  assert "4 of the 8 files" in message
  for name, reason in (("empty.wav", "empty"), ("click.wav", "too short"),
                       ("nan.wav", "non-finite"),
                       ("zero.wav", "digital silence")):
    assert _named(message, name, reason), name
  # Dropping silence leaves the others refused...
  message = _refusal(folder_dir, drop_silent=True)
  assert "3 of the 8 files" in message and "zero.wav" not in message
  # ...and on_error='skip' leaves them out, listed with their reasons.
  folder = AudioFolder(str(folder_dir), split_column="split",
                       drop_silent=True, on_error="skip")
  assert [(p.rsplit("/", 1)[-1], r.split(":")[0]) for p, r in
          folder.skipped] == [("empty.wav", "empty"),
                              ("click.wav", "too short"),
                              ("nan.wav", "non-finite samples")]
  assert len(folder.silent_dropped) == 1
  assert folder.splits == {"train": 3, "validation": 1}


def test_drop_silent_is_a_gin_argument(folder_dir):
  # pylint: disable=import-outside-toplevel
  import gin
  from s2l import configurables
  _add_files(folder_dir, {"zero.wav": (np.zeros((16000, 1), np.int16), 16000,
                                       _write_wav)})
  configurables.parse_gin([], [f"AudioFolder.root = '{folder_dir}'",
                               "AudioFolder.split_column = 'split'",
                               "AudioFolder.drop_silent = True"])
  folder = gin.get_configurable(AudioFolder)()
  assert len(folder.silent_dropped) == 1
  assert folder.config["drop_silent"] is True
