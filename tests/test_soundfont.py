"""Tests for s2l/datasets/soundfont.py on a SoundFont written here."""

import numpy as np
import pytest

from s2l.datasets import soundfont as sf
import sf2_writer as w

SR = 16000
RATE = 32000  # The samples' own rate, resampled to SR.
SINE500 = w.sine(500, RATE, 3264)  # 64 samples a period: loops seamlessly.
LOOP = (1600, 3200)


@pytest.fixture(name="path", scope="module")
def _path(tmp_path_factory):
  loop = {"rate": RATE, "loop": LOOP}
  samples = [
      {"name": "sine500", "data": SINE500, "root": 48, **loop},  # 0
      {"name": "sine500_noloop", "data": SINE500, "rate": RATE,
       "root": 60},  # 1
      {"name": "sine800", "data": w.sine(800, RATE, 3264), "root": 60,
       **loop},  # 2
      {"name": "left", "data": SINE500, "root": 60, "type": w.LEFT,
       **loop},  # 3
      {"name": "right", "data": SINE500, "root": 60, "type": w.RIGHT,
       **loop},  # 4
      {"name": "tail", "data": w.sine(500, RATE, 4800), "root": 60,
       **loop},  # 5: 50 ms play on after the loop.
      {"name": "corrected", "data": SINE500, "root": 60, "correction": 100,
       **loop},  # 6
      # 500 Hz and 12 kHz, which would alias to 4 kHz at 16 kHz.
      {"name": "bright", "data": (w.sine(500, RATE, 3264, 0.4).astype(int)
                                  + w.sine(12000, RATE, 3264, 0.4)
                                  ).astype(np.int16),
       "root": 60, **loop},  # 7
  ]
  looped = {w.SAMPLE_MODES: 1}
  instruments = [
      {"name": "looped", "zones": [  # 0: a global zone holds the envelope.
          {w.ATTACK: w.timecents(0.1), w.RELEASE: w.timecents(0.2)},
          {w.SAMPLE_ID: 0, w.ROOT_KEY: 60, **looped}]},
      {"name": "layers", "zones": [  # 1
          {w.VEL_RANGE: (0, 63), w.SAMPLE_ID: 0, w.ROOT_KEY: 60, **looped},
          {w.VEL_RANGE: (64, 127), w.SAMPLE_ID: 2, **looped}]},
      {"name": "noloop", "zones": [{w.SAMPLE_ID: 1}]},  # 2
      {"name": "upper", "zones": [  # 3
          {w.KEY_RANGE: (60, 127), w.SAMPLE_ID: 2, **looped}]},
      {"name": "stereo", "zones": [  # 4
          {w.SAMPLE_ID: 3, **looped}, {w.SAMPLE_ID: 4, **looped}]},
      {"name": "loop_until_release", "zones": [  # 5
          {w.SAMPLE_ID: 5, w.SAMPLE_MODES: 3,
           w.RELEASE: w.timecents(20.0)}]},
      {"name": "loop_forever", "zones": [  # 6
          {w.SAMPLE_ID: 5, w.RELEASE: w.timecents(20.0), **looped}]},
      {"name": "tuned", "zones": [  # 7
          {w.SAMPLE_ID: 6, w.FINE_TUNE: 150, **looped}]},
      {"name": "flat", "zones": [  # 8
          {w.SAMPLE_ID: 0, w.ROOT_KEY: 60, w.SCALE_TUNING: 0, **looped}]},
      {"name": "bright", "zones": [{w.SAMPLE_ID: 7, **looped}]},  # 9
  ]
  presets = [{"name": name, "bank": 0, "program": program, "zones": zones}
             for program, name, zones in (
                 (0, "Looped", [{w.INSTRUMENT: 0}]),
                 # A preset global zone, added to the instrument's values.
                 (1, "OctaveUp", [{w.COARSE_TUNE: 12}, {w.INSTRUMENT: 0}]),
                 (2, "Layers", [{w.INSTRUMENT: 1}]),
                 (3, "NoLoop", [{w.INSTRUMENT: 2}]),
                 (4, "Upper", [{w.INSTRUMENT: 3}]),
                 (5, "UpperNarrow", [{w.KEY_RANGE: (0, 64),
                                      w.INSTRUMENT: 3}]),
                 (6, "Stereo", [{w.INSTRUMENT: 4}]),
                 (7, "LoopUntilRelease", [{w.INSTRUMENT: 5}]),
                 (8, "Tuned", [{w.FINE_TUNE: -50, w.INSTRUMENT: 7}]),
                 (9, "LoopForever", [{w.INSTRUMENT: 6}]),
                 (10, "Quiet", [{w.ATTENUATION: 60, w.INSTRUMENT: 0}]),
                 (11, "Flat", [{w.INSTRUMENT: 8}]),
                 (12, "Bright", [{w.INSTRUMENT: 9}]),
             )]
  return w.write_sf2(tmp_path_factory.mktemp("sf2") / "fixture.sf2", samples,
                     instruments, presets)


@pytest.fixture(name="font", scope="module")
def _font(path):
  return sf.SoundFont.load(path)


def _render(font, program, pitch=60, velocity=100, **kwargs):
  return sf.render_note(font, 0, program, pitch, velocity, SR, **kwargs)


def _peak_hz(audio, start_s=0.5, stop_s=2.5):
  """Frequency of the strongest spectral peak, parabolically interpolated."""
  segment = audio[int(start_s * SR):int(stop_s * SR)]
  n = 2**18
  mag = np.abs(np.fft.rfft(segment * np.hanning(len(segment)), n))
  i = int(np.argmax(mag))
  a, b, c = np.log(mag[i - 1:i + 2])
  return (i + 0.5 * (a - c) / (a - 2 * b + c)) * SR / n


def _level(audio, t, width_s=0.01):
  """Peak amplitude over [t, t + width_s): 5 periods of 500 Hz."""
  return float(np.abs(audio[int(t * SR):int((t + width_s) * SR)]).max())


def test_load_parses_presets_zones_and_samples(font):
  assert font.name == "fixture"
  assert sorted(font.presets)[:3] == [(0, 0), (0, 1), (0, 2)]
  assert font.presets[(0, 2)][0] == "Layers"
  assert [s.name for s in font.samples][:3] == ["sine500", "sine500_noloop",
                                               "sine800"]
  sample = font.samples[0]
  assert (sample.end - sample.start, sample.rate, sample.original_pitch) == (
      3264, RATE, 48)
  assert (sample.loop_start - sample.start,
          sample.loop_end - sample.start) == LOOP
  assert font.samples[6].correction == 100
  np.testing.assert_array_equal(
      font.data[sample.start:sample.end], SINE500)
  # The instrument's global zone gives its envelope to the local zone.
  region, = font.regions(0, 0)
  assert region.generators[34] == w.timecents(0.1)
  assert region.generators[58] == 60 and region.generators[54] == 1
  assert region.keys == (0, 127) and region.velocities == (0, 127)
  # The preset's global zone adds to the instrument level.
  assert font.regions(0, 1)[0].generators[51] == 12
  assert [r.velocities for r in font.regions(0, 2)] == [(0, 63), (64, 127)]


@pytest.mark.parametrize("program,pitch,hz", [
    (0, 60, 500.0),  # overridingRootKey 60, not the sample's 48.
    (0, 72, 1000.0),
    (0, 48, 250.0),
    (0, 67, 500.0 * 2 ** (7 / 12)),
    (1, 60, 1000.0),  # Preset-level coarseTune +12.
    (8, 60, 500.0 * 2 ** (200 / 1200)),  # +100 +150 -50 cents.
    (11, 72, 500.0),  # scaleTuning 0: every key plays the root's pitch.
])
def test_pitch_follows_root_key_and_tuning(font, program, pitch, hz):
  assert _peak_hz(_render(font, program, pitch)) == pytest.approx(
      hz, rel=5e-4)


def test_octave_up_doubles_the_frequency(font):
  low, high = (_peak_hz(_render(font, 0, p)) for p in (57, 69))
  assert high / low == pytest.approx(2.0, rel=5e-4)


def test_partials_above_the_output_nyquist_do_not_alias(font):
  audio = _render(font, 12, velocity=127)[SR // 2:5 * SR // 2]
  mag = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
  hz = np.fft.rfftfreq(len(audio), 1 / SR)
  near = lambda f: mag[np.abs(hz - f) < 20].max()
  assert near(500) / mag.max() == pytest.approx(1.0)
  # 12 kHz read at 16 kHz would fold to 4 kHz: it is filtered out instead.
  assert near(4000) < 1e-4 * near(500)
  assert _level(_render(font, 12, velocity=127), 1.0) == pytest.approx(
      0.4, rel=0.02)


def test_loop_sustains_a_short_sample_until_the_note_off(font):
  audio = _render(font, 0)  # 0.1 s of sample, looped.
  expected = 0.5 * (100 / 127) ** 2
  for t in (0.2, 1.0, 2.0, 2.98):
    assert _level(audio, t) == pytest.approx(expected, rel=0.01), t
  unlooped = _render(font, 3)
  assert _level(unlooped, 0.05) == pytest.approx(expected, rel=0.01)
  # 3264 samples at 32 kHz last 0.102 s.
  assert not unlooped[int(0.103 * SR):].any()


def test_loop_until_release_plays_on_then_stops(font):
  held = _render(font, 7, duration_s=2.0, hold_s=1.0)
  forever = _render(font, 9, duration_s=2.0, hold_s=1.0)
  np.testing.assert_array_equal(held[:SR], forever[:SR])
  # After the note-off: at most the rest of the loop (50 ms) and the tail
  # (50 ms), while mode 1 keeps looping under its 20 s release.
  assert _level(held, 1.0) > 0.2
  assert not held[int(1.101 * SR):].any()
  assert _level(forever, 1.5) > 0.2


def test_attack_and_release_follow_the_envelope(font):
  audio = _render(font, 0, duration_s=4.0, hold_s=3.0)
  peak = 0.5 * (100 / 127) ** 2
  # Linear attack over 0.1 s.
  for t in (0.02, 0.05, 0.08):
    assert _level(audio, t - 0.001, 0.002) / peak == pytest.approx(
        t / 0.1, abs=0.03), t
  # Release: 100 dB in 0.2 s, i.e. -25 dB after 50 ms.
  for dt in (0.05, 0.1):
    level_db = 20 * np.log10(_level(audio, 3.0 + dt - 0.001, 0.002) / peak)
    assert level_db == pytest.approx(-500 * dt, abs=1.0), dt
  assert not audio[int(3.201 * SR):].any()  # 100 dB down: the voice ends.


def test_volume_envelope_stages():
  generators = dict(sf._DEFAULTS)  # pylint: disable=protected-access
  generators.update({33: w.timecents(0.1), 34: w.timecents(0.2),
                     35: w.timecents(0.1), 36: w.timecents(1.0), 37: 200,
                     38: w.timecents(0.5)})
  env = sf.volume_envelope(generators, 60, 1000, 3000, hold_s=2.0)
  at = lambda t: env[int(round(t * 1000))]
  assert at(0.05) == 0.0  # Delay.
  assert at(0.2) == pytest.approx(0.5, abs=1e-3)  # Half-way up the attack.
  assert at(0.35) == pytest.approx(1.0)  # Hold.
  # Decay: 100 dB a second, down to the 20 dB sustain after 0.2 s.
  assert 20 * np.log10(at(0.5)) == pytest.approx(-10.0, abs=0.01)
  assert 20 * np.log10(at(1.5)) == pytest.approx(-20.0, abs=0.01)
  # Release: 100 dB in 0.5 s from the sustain level.
  assert 20 * np.log10(at(2.1)) == pytest.approx(-40.0, abs=0.01)
  assert at(2.4) == pytest.approx(10 ** (-100 / 20), rel=0.01)
  assert at(2.5) == 0.0


def test_the_buffer_ends_in_exact_zeros(font):
  # Held to the end with a 20 s release: only the final fade stops it.
  for hold_s in (1.0, 2.0):
    audio = _render(font, 9, duration_s=2.0, hold_s=hold_s)
    assert _level(audio, 1.95) > 0.1
    tail = int(sf.SILENT_TAIL_S * SR)
    assert tail >= 16 and not audio[-tail:].any()
    # A smooth fade before that, no click.
    fade = audio[-tail - int(sf.FADE_S * SR):-tail]
    assert np.abs(np.diff(fade)).max() < 0.2 and abs(fade[-1]) < 1e-3
  assert len(_render(font, 0, duration_s=0.5, hold_s=0.25)) == 8000


def test_no_state_is_carried_between_notes(font, path):
  alone = _render(sf.SoundFont.load(path), 2, 72, 100)
  _render(font, 2, 60, 30)
  _render(font, 7, 50, 127, duration_s=2.0, hold_s=1.0)
  np.testing.assert_array_equal(_render(font, 2, 72, 100), alone)


def test_velocity_and_key_ranges_pick_the_zone(font):
  assert _peak_hz(_render(font, 2, velocity=63)) == pytest.approx(500, 5e-4)
  assert _peak_hz(_render(font, 2, velocity=64)) == pytest.approx(800, 5e-4)
  # Instrument zone keys 60-127.
  assert not _render(font, 4, 59).any()
  assert _peak_hz(_render(font, 4, 60)) == pytest.approx(800, 5e-4)
  # Intersected with the preset zone's keys 0-64.
  assert _render(font, 5, 64).any() and not _render(font, 5, 65).any()


def test_velocity_attenuation_and_stereo_gains(font):
  loud, soft = _render(font, 0, velocity=127), _render(font, 0, velocity=64)
  assert _level(loud, 1.0) == pytest.approx(0.5, rel=0.01)
  assert _level(soft, 1.0) / _level(loud, 1.0) == pytest.approx(
      (64 / 127) ** 2, rel=1e-3)
  quiet = _render(font, 10, velocity=127)  # initialAttenuation 60 cB.
  assert _level(quiet, 1.0) / _level(loud, 1.0) == pytest.approx(
      10 ** (-60 / 200), rel=1e-3)
  # A left/right pair mixes to (L + R) / 2: the mono sample's level.
  stereo = _render(font, 6, velocity=127)
  assert _level(stereo, 1.0) == pytest.approx(0.5, rel=0.01)


def test_errors_name_the_file(tmp_path, path, font):
  missing = tmp_path / "nope.sf2"
  with pytest.raises(FileNotFoundError, match="nope.sf2"):
    sf.SoundFont.load(str(missing))
  wav = tmp_path / "note.wav"
  wav.write_bytes(b"RIFF\x24\0\0\0WAVEfmt " + b"\0" * 32)
  with pytest.raises(ValueError, match="note.wav is not a SoundFont 2"):
    sf.SoundFont.load(str(wav))
  data = open(path, "rb").read()
  cut = tmp_path / "cut.sf2"
  cut.write_bytes(data[:len(data) // 2])
  with pytest.raises(ValueError, match="cut.sf2 is truncated"):
    sf.SoundFont.load(str(cut))
  # A consistent RIFF header over a cut pdta list.
  cut_pdta = data[:-100]
  cut_pdta = cut_pdta[:4] + (len(cut_pdta) - 8).to_bytes(4, "little") + \
      cut_pdta[8:]
  cut.write_bytes(cut_pdta)
  with pytest.raises(ValueError, match="cut.sf2 is truncated or corrupt"):
    sf.SoundFont.load(str(cut))
  # A preset whose zones start past the end of the bag list.
  phdr = data.index(b"phdr") + 8
  bad = bytearray(data)
  bad[phdr + 24:phdr + 26] = (999).to_bytes(2, "little")
  cut.write_bytes(bytes(bad))
  with pytest.raises(ValueError, match="cut.sf2 is corrupt"):
    sf.SoundFont.load(str(cut))
  with pytest.raises(ValueError, match=r"no preset bank 0 program 99; .*"
                     r"0:0 'Looped'"):
    _render(font, 99)
  with pytest.raises(ValueError, match="pitch must be"):
    _render(font, 0, pitch=128)
  with pytest.raises(ValueError, match="velocity"):
    _render(font, 0, velocity=0)
  with pytest.raises(ValueError, match="hold_s"):
    _render(font, 0, duration_s=1.0, hold_s=2.0)
