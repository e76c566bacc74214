"""Tests for s2l/datasets/synthetic_notes.py."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from s2l.datasets import embedded
from s2l.datasets import synthetic_notes as sn

SR = 16000
TINY_SIZES = {"train": 24, "validation": 8, "test": 8}


def _midi_to_hz(pitch):
  return 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)


def _cents(f, f_ref):
  return 1200.0 * np.log2(f / f_ref)


def _power_spectrum(audio, sample_rate=SR, n_fft=2**18):
  """Hann-windowed, zero-padded power spectrum: (freqs [F], power [F])."""
  spectrum = np.fft.rfft(audio * np.hanning(len(audio)), n_fft)
  return np.fft.rfftfreq(n_fft, 1.0 / sample_rate), np.abs(spectrum)**2


def _estimate_f0(audio, sample_rate=SR, frame_s=0.25):
  """Median over frames of the lowest strong spectral peak, in Hz.

  Frames span the held part of the note, after the attack; the median over
  frames follows the centre of a vibrato.
  """
  frame = int(frame_s * sample_rate)
  start, stop = int(0.3 * sample_rate), int(0.75 * len(audio))
  estimates = []
  for s in range(start, stop - frame + 1, frame // 2):
    _, power = _power_spectrum(audio[s:s + frame], sample_rate, 2**16)
    mag = np.sqrt(power)
    peaks = np.flatnonzero((mag[1:-1] > mag[:-2]) & (mag[1:-1] >= mag[2:])
                           & (mag[1:-1] > 0.1 * mag.max())) + 1
    # Vibrato adds sidebands a few Hz either side of each harmonic: take the
    # strongest peak within three semitones of the lowest one.
    near = peaks[np.log2(peaks / peaks[0]) < 0.25]
    i = near[np.argmax(mag[near])]
    a, b, c = np.log(mag[i - 1:i + 2])
    estimates.append((i + 0.5 * (a - c) / (a - 2 * b + c)) * sample_rate
                     / 2**16)
  return float(np.median(estimates))


def _harmonic_amplitudes(audio, f0, num_harmonics, sample_rate=SR):
  """Peak magnitude within 3% of k f0, k = 1..num_harmonics, [K]."""
  freqs, power = _power_spectrum(audio, sample_rate)
  return np.array([
      np.sqrt(power[np.abs(freqs - k * f0) < 0.03 * k * f0].max())
      for k in range(1, num_harmonics + 1)])


def _centroid_over_f0(audio, f0):
  freqs, power = _power_spectrum(audio)
  return float((freqs * power).sum() / power.sum() / f0)


def _note(instrument, pitch, velocity=0.8, duration_s=4.0, seed=0,
          sample_rate=SR):
  return sn.synthesize_note(sn.instrument_family(instrument), instrument,
                            pitch, velocity, duration_s, sample_rate,
                            np.random.default_rng([seed, instrument, pitch]))


def _instruments(family_name):
  family = sn.FAMILY_NAMES.index(family_name)
  return [i for i in range(sn.NUM_INSTRUMENTS)
          if sn.instrument_family(i) == family]


def _build(data_dir, config="tiny"):
  """Builds a config; returns {split: {id: example as numpy}}."""
  builder = tfds.builder("s2l_synthetic_notes", config=config,
                         data_dir=str(data_dir))
  builder.download_and_prepare()
  return {split: {ex["id"].decode(): ex
                  for ex in tfds.as_numpy(builder.as_dataset(split=split))}
          for split in sn.SPLITS}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
  return _build(tmp_path_factory.mktemp("tiny_a"))


@pytest.fixture(scope="module")
def tiny_again(tmp_path_factory):
  return _build(tmp_path_factory.mktemp("tiny_b"))


# --- the builder ------------------------------------------------------------


def test_builder_is_registered_with_its_configs(tmp_path):
  builder = tfds.builder("s2l_synthetic_notes", data_dir=str(tmp_path))
  assert isinstance(builder, sn.SyntheticNotes)
  assert builder.builder_config.name == "default"
  assert str(builder.version) == "1.1.0"
  assert "1.1.0" in sn.SyntheticNotes.RELEASE_NOTES
  config = builder.builder_config
  assert (config.duration_s, config.sample_rate) == (4.0, 16000)
  assert config.num_train + config.num_validation + config.num_test >= 2000
  assert builder.info.features["audio"].shape == (64000,)
  names = [c.name for c in sn.SyntheticNotes.BUILDER_CONFIGS]
  assert names == ["default", "tiny"]


def test_features_mirror_nsynth(tmp_path):
  features = tfds.builder("s2l_synthetic_notes", config="tiny",
                          data_dir=str(tmp_path)).info.features
  assert set(features.keys()) == {"audio", "id", "instrument", "pitch"}
  assert isinstance(features["audio"], tfds.features.Audio)
  assert features["audio"].sample_rate == 16000
  assert features["audio"].dtype == tf.int16
  assert isinstance(features["id"], tfds.features.Text)
  family = features["instrument"]["family"]
  assert tuple(family.names) == sn.FAMILY_NAMES
  assert features["instrument"]["label"].num_classes == sn.NUM_INSTRUMENTS
  assert features["pitch"].num_classes == 128


def test_tiny_splits_shapes_dtypes_and_labels(tiny):
  all_ids = []
  for split, examples in tiny.items():
    assert len(examples) == TINY_SIZES[split]
    # The id encodes the split and the index.
    assert set(examples) == {f"{split}_{i:05d}"
                             for i in range(TINY_SIZES[split])}
    all_ids += list(examples)
    for ex in examples.values():
      audio = ex["audio"]
      assert audio.shape == (SR,) and audio.dtype == np.int16
      assert np.isfinite(audio).all()
      peak = np.abs(audio.astype(np.int32)).max() / 32767
      assert 0.9 * 0.4 - 1e-4 <= peak <= 0.9 + 1e-4
      label, family = ex["instrument"]["label"], ex["instrument"]["family"]
      assert 0 <= label < sn.NUM_INSTRUMENTS
      assert family == sn.instrument_family(label)
      low, high = sn.pitch_range(label)
      assert low <= ex["pitch"] <= high
  assert len(set(all_ids)) == len(all_ids) == sum(TINY_SIZES.values())
  # Even a tiny build covers most families.
  families = {ex["instrument"]["family"] for ex in tiny["train"].values()}
  assert len(families) >= 5


def test_two_builds_are_identical(tiny, tiny_again):
  for split in sn.SPLITS:
    assert tiny[split].keys() == tiny_again[split].keys()
    for key, ex in tiny[split].items():
      other = tiny_again[split][key]
      np.testing.assert_array_equal(ex["audio"], other["audio"])
      assert ex["pitch"] == other["pitch"]
      assert ex["instrument"]["label"] == other["instrument"]["label"]


def test_examples_are_a_function_of_seed_split_and_index(tiny):
  config = sn.SyntheticNotes.builder_configs["tiny"]
  for split in ("train", "test"):
    for index in (0, TINY_SIZES[split] - 1):
      note = sn.draw_note(config.seed, split, index)
      audio = sn.synthesize_note(note["family"], note["instrument"],
                                 note["pitch"], note["velocity"],
                                 config.duration_s, config.sample_rate,
                                 note["rng"])
      ex = tiny[split][f"{split}_{index:05d}"]
      np.testing.assert_array_equal(ex["audio"], embedded.to_pcm16(audio))
      assert ex["instrument"]["label"] == note["instrument"]
      assert ex["pitch"] == note["pitch"]


def test_different_seeds_differ(tiny, tmp_path):
  config = sn.SyntheticNotesConfig(name="tiny_seed1", duration_s=1.0,
                                   num_train=24, num_validation=8,
                                   num_test=8, seed=1)
  other = _build(tmp_path, config)
  labels = lambda d: [(ex["instrument"]["label"], ex["pitch"])
                      for _, ex in sorted(d["train"].items())]
  assert labels(tiny) != labels(other)
  for key, ex in tiny["train"].items():
    assert not np.array_equal(ex["audio"], other["train"][key]["audio"])


def test_config_validation():
  with pytest.raises(ValueError, match="num_test"):
    sn.SyntheticNotesConfig(name="bad", num_test=0)
  with pytest.raises(ValueError, match="sample_rate 4000"):
    sn.SyntheticNotesConfig(name="bad", sample_rate=4000)
  with pytest.raises(ValueError, match="duration_s"):
    sn.SyntheticNotesConfig(name="bad", duration_s=0.0)


# --- labels against the signal ----------------------------------------------


def test_pitch_of_every_tiny_note_matches_its_label(tiny):
  for split in sn.SPLITS:
    for key, ex in tiny[split].items():
      f0 = _estimate_f0(ex["audio"])
      error = _cents(f0, _midi_to_hz(ex["pitch"]))
      assert abs(error) < 50, (key, ex["instrument"], ex["pitch"], error)


@pytest.mark.parametrize("velocity", [0.4, 1.0])
def test_pitch_matches_across_every_instrument_range(velocity):
  for instrument in range(sn.NUM_INSTRUMENTS):
    low, high = sn.pitch_range(instrument)
    for pitch in (low, (low + high) // 2, high):
      audio = _note(instrument, pitch, velocity, duration_s=2.0)
      error = _cents(_estimate_f0(audio), _midi_to_hz(pitch))
      assert abs(error) < 50, (instrument, pitch, error)


@pytest.mark.parametrize("family_name", sn.FAMILY_NAMES)
def test_higher_pitch_gives_higher_f0(family_name):
  instrument = _instruments(family_name)[0]
  low, high = sn.pitch_range(instrument)
  pitches = np.arange(low, high + 1, 3)
  f0s = [_estimate_f0(_note(instrument, p, duration_s=1.0)) for p in pitches]
  assert np.all(np.diff(f0s) > 0), list(zip(pitches, f0s))


def test_organ_sustains_while_mallet_dies_away():
  def late_over_early(audio):
    return (np.mean(audio[2 * SR:int(2.9 * SR)]**2)
            / np.mean(audio[:SR]**2))
  organ = [late_over_early(_note(i, 60)) for i in _instruments("organ")]
  mallet = [late_over_early(_note(i, 60)) for i in _instruments("mallet")]
  keyboard = [late_over_early(_note(i, 60)) for i in _instruments("keyboard")]
  assert min(organ) > 0.8
  assert max(mallet) < 1e-2
  # Keyboards decay, but more slowly than mallets.
  assert max(mallet) < min(keyboard) < max(keyboard) < min(organ)


def test_reed_has_mostly_odd_harmonics():
  def odd_over_even(instrument, pitch=60):
    amps = _harmonic_amplitudes(_note(instrument, pitch), _midi_to_hz(pitch),
                                8)
    return (amps[0::2]**2).sum() / (amps[1::2]**2).sum()
  reed = [odd_over_even(i) for i in _instruments("reed")]
  others = [odd_over_even(i) for name in ("string", "brass", "organ")
            for i in _instruments(name)]
  assert min(reed) > 5 * max(others)


def test_flute_is_darker_than_string_and_brass():
  pitch = 65
  f0 = _midi_to_hz(pitch)
  flute = [_centroid_over_f0(_note(i, pitch), f0)
           for i in _instruments("flute")]
  bright = [_centroid_over_f0(_note(i, pitch), f0)
            for name in ("string", "brass") for i in _instruments(name)]
  assert max(flute) < 1.3 < 1.5 < min(bright)


def test_brass_brightens_during_its_attack():
  pitch = 55
  for instrument in _instruments("brass"):
    audio = _note(instrument, pitch)
    onset = _centroid_over_f0(audio[:int(0.02 * SR)], _midi_to_hz(pitch))
    held = _centroid_over_f0(audio[SR // 2:SR], _midi_to_hz(pitch))
    assert held > 1.2 * onset, (instrument, onset, held)


def test_velocity_sets_peak_and_brightness():
  instrument, pitch = _instruments("string")[0], 60
  soft, loud = _note(instrument, pitch, 0.4), _note(instrument, pitch, 1.0)
  assert np.abs(soft).max() == pytest.approx(0.36, rel=1e-5)
  assert np.abs(loud).max() == pytest.approx(0.9, rel=1e-5)
  f0 = _midi_to_hz(pitch)
  assert _centroid_over_f0(soft, f0) < _centroid_over_f0(loud, f0)


@pytest.mark.parametrize("family_name", ["brass", "organ", "reed", "string"])
def test_no_aliasing_at_the_top_of_the_keyboard(family_name):
  # With partials up to 10 kHz, each one above Nyquist would fold back to
  # 16 kHz - f_k, away from the harmonics of 1480 Hz.
  pitch = 90
  f0 = _midi_to_hz(pitch)
  for instrument in _instruments(family_name):
    audio = _note(instrument, pitch)
    freqs, power = _power_spectrum(audio)
    ratios = freqs / f0
    # Within 3% (half a semitone) of a harmonic, wide enough for vibrato.
    harmonic = np.abs(ratios / np.maximum(np.round(ratios), 1) - 1) < 0.03
    assert power[harmonic].sum() / power.sum() > 0.995, instrument


def test_synthesize_note_is_deterministic_given_its_rng():
  a = _note(5, 60, seed=3)
  np.testing.assert_array_equal(a, _note(5, 60, seed=3))
  assert not np.array_equal(a, _note(5, 60, seed=4))
  assert a.shape == (4 * SR,) and a.dtype == np.float32
  assert _note(5, 60, duration_s=0.5, sample_rate=22050).shape == (11025,)


def test_synthesize_note_rejects_bad_arguments():
  rng = np.random.default_rng(0)
  with pytest.raises(ValueError, match="belongs to family"):
    sn.synthesize_note(0, 5, 60, 0.8, 1.0, SR, rng)
  with pytest.raises(ValueError, match="instrument must be"):
    sn.synthesize_note(0, sn.NUM_INSTRUMENTS, 60, 0.8, 1.0, SR, rng)
  with pytest.raises(ValueError, match="pitch"):
    sn.synthesize_note(0, 0, 127, 0.8, 1.0, SR, rng)
  with pytest.raises(ValueError, match="velocity"):
    sn.synthesize_note(0, 0, 40, 0.0, 1.0, SR, rng)


# --- instruments --------------------------------------------------------------


def test_instrument_family_and_pitch_range():
  families = [sn.instrument_family(i) for i in range(sn.NUM_INSTRUMENTS)]
  assert np.bincount(families).tolist() == (
      [sn.INSTRUMENTS_PER_FAMILY] * len(sn.FAMILY_NAMES))
  for instrument in range(sn.NUM_INSTRUMENTS):
    low, high = sn.pitch_range(instrument)
    assert 0 <= low < high <= 127 and high - low >= 12
    assert 2 * _midi_to_hz(high) < SR / 2
  bass_high = max(sn.pitch_range(i)[1] for i in _instruments("bass"))
  flute_low = min(sn.pitch_range(i)[0] for i in _instruments("flute"))
  assert bass_high < flute_low  # A bass plays low and a flute high...
  # ... but in the middle of the keyboard pitch alone does not give the
  # family.
  for pitch in range(56, 76):
    playing = {sn.instrument_family(i) for i in range(sn.NUM_INSTRUMENTS)
               if sn.pitch_range(i)[0] <= pitch <= sn.pitch_range(i)[1]}
    assert len(playing) >= 5, pitch
  with pytest.raises(ValueError, match="instrument must be"):
    sn.instrument_family(-1)
