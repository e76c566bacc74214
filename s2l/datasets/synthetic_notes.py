"""An embedded, offline NSynth-like data set of synthetic musical notes.

Section 3.1 of the paper pre-trains on NSynth (Engel et al., 2017) by
shuffling frequency bands of log-spectrograms, then probes the frozen encoder
on three tasks: instrument family, instrument label and pitch. NSynth is 300k
notes and tens of gigabytes; this module holds a small stand-in that needs no
download and builds on a CPU in about a minute, so that the whole pipeline
can run, be tested and be demonstrated anywhere:

* `synthesize_note`, a pure-numpy additive synthesiser. Each of the
  `len(FAMILY_NAMES)` families has a timbre template (harmonic profile,
  odd/even balance, inharmonicity, attack, decay, vibrato, noise); each of its
  `INSTRUMENTS_PER_FAMILY` instruments is a fixed perturbation of it (its own
  partial gains, body resonance, decay times and MIDI range). Family ranges
  overlap, so pitch alone does not give the family.
* `SyntheticNotes`, a TFDS builder named `s2l_synthetic_notes` whose features
  mirror TFDS `nsynth` (`audio`, `id`, `instrument/family`,
  `instrument/label`, `pitch`), so one input pipeline serves both.

Every example is a pure function of (config seed, split, index): two builds
give identical data.

    import s2l.datasets.synthetic_notes  # Registers the builder.
    builder = tfds.builder("s2l_synthetic_notes", data_dir=...)
    builder.download_and_prepare()  # Synthesises locally; no download.
    ds = builder.as_dataset(split="train")
"""

import dataclasses
import functools

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from s2l.datasets import embedded

# Alphabetical, as NSynth orders its family names (a subset of its 11).
FAMILY_NAMES = ("bass", "brass", "flute", "keyboard", "mallet", "organ",
                "reed", "string")
INSTRUMENTS_PER_FAMILY = 4
NUM_INSTRUMENTS = len(FAMILY_NAMES) * INSTRUMENTS_PER_FAMILY
SPLITS = embedded.SPLITS

# Instruments are part of the data set's definition, not of a build: they do
# not depend on the config seed, so configs differ only in which notes they
# draw.
_INSTRUMENT_SEED = 20201002
_MAX_PARTIALS = 32
_MAX_DETUNE_CENTS = 8.0
# As in NSynth, a note is held for 3/4 of its duration, then released.
_HOLD_FRACTION = 0.75
_FREE_BAR_MODES = (1.0, 2.756, 5.404, 8.933, 13.345)
_DESCRIPTION = (
    f"NSynth-like synthetic notes of {len(FAMILY_NAMES)} instrument "
    f"families with {INSTRUMENTS_PER_FAMILY} instruments each, labelled "
    "with family, instrument and MIDI pitch (s2l, paper section 3.1).")


@dataclasses.dataclass(frozen=True)
class _Timbre:
  """Synthesis parameters of a family template or of one instrument.

  Attributes:
    low: Lowest MIDI pitch played.
    high: Highest MIDI pitch played.
    num_partials: Number of partials before the Nyquist cut.
    slope: Partial k has amplitude k ** -slope (before gains).
    even_gain: Gain of even harmonics (a clarinet-like reed has ~0.1).
    jitter_db: Spread of the fixed random gain of each partial above the
      first, in dB; it is what tells instruments of a family apart.
    stiffness: B in f_k = k f0 sqrt(1 + B k^2) (piano strings).
    bar: If True, partials follow the modes of a free bar (mallets).
    attack_s: Linear attack time.
    decay_s: Decay time constant of the fundamental; np.inf to sustain.
    decay_tilt: Partial k decays (1 + decay_tilt (k - 1)) times faster.
    release_s: Decay time constant after the note is released.
    vibrato_cents: Vibrato depth.
    vibrato_hz: Vibrato rate.
    noise: Breath or bow noise, RMS relative to the harmonic part.
    bloom: Partial k follows the envelope to the power 1 + bloom (k - 1),
      so that the sound brightens as it gets louder (brass).
    formant_hz: Centre of a fixed body resonance (0: none).
    formant_db: Gain of that resonance at its centre.
  """
  low: int
  high: int
  num_partials: int
  slope: float
  even_gain: float = 1.0
  jitter_db: float = 2.0
  stiffness: float = 0.0
  bar: bool = False
  attack_s: float = 0.01
  decay_s: float = np.inf
  decay_tilt: float = 0.0
  release_s: float = 0.1
  vibrato_cents: float = 0.0
  vibrato_hz: float = 5.0
  noise: float = 0.0
  bloom: float = 0.0
  formant_hz: float = 0.0
  formant_db: float = 0.0


# Family templates, in the order of FAMILY_NAMES.
_FAMILIES = (
    # bass: low, plucked, few harmonics, decays.
    _Timbre(low=28, high=55, num_partials=8, slope=1.6, attack_s=0.005,
            decay_s=1.2, decay_tilt=0.4, release_s=0.08),
    # brass: bright harmonic series that blooms with the attack.
    _Timbre(low=40, high=77, num_partials=24, slope=1.1, attack_s=0.06,
            decay_s=8.0, release_s=0.1, vibrato_cents=6.0, bloom=0.6),
    # flute: nearly sinusoidal, breathy, with vibrato.
    _Timbre(low=60, high=96, num_partials=5, slope=2.2, attack_s=0.08,
            decay_s=10.0, release_s=0.12, vibrato_cents=15.0, noise=0.05),
    # keyboard: struck stiff strings, fast attack and exponential decay.
    _Timbre(low=36, high=96, num_partials=24, slope=1.3, stiffness=3e-4,
            attack_s=0.003, decay_s=1.5, decay_tilt=0.3, release_s=0.15),
    # mallet: inharmonic bar modes, upper modes die fast.
    _Timbre(low=53, high=96, num_partials=5, slope=0.8, bar=True,
            attack_s=0.002, decay_s=0.5, decay_tilt=1.0, release_s=0.05),
    # organ: sustained at constant level, drawbar-like harmonic gains.
    _Timbre(low=36, high=84, num_partials=8, slope=0.7, jitter_db=5.0,
            attack_s=0.01, release_s=0.03),
    # reed: mostly odd harmonics (clarinet-like closed pipe).
    _Timbre(low=46, high=84, num_partials=20, slope=1.0, even_gain=0.15,
            attack_s=0.04, decay_s=10.0, release_s=0.08, vibrato_cents=6.0,
            noise=0.01),
    # string: bowed sawtooth-like spectrum, slow attack, vibrato.
    _Timbre(low=40, high=88, num_partials=30, slope=1.0, attack_s=0.15,
            decay_s=10.0, release_s=0.2, vibrato_cents=18.0, vibrato_hz=5.5,
            noise=0.01),
)
assert len(_FAMILIES) == len(FAMILY_NAMES)


def _check_instrument(instrument):
  if not 0 <= instrument < NUM_INSTRUMENTS:
    raise ValueError(f"instrument must be in [0, {NUM_INSTRUMENTS}), got "
                     f"{instrument}.")


def instrument_family(instrument: int) -> int:
  """Returns the family index (into FAMILY_NAMES) of an instrument label."""
  _check_instrument(instrument)
  return int(instrument) // INSTRUMENTS_PER_FAMILY


@functools.lru_cache(maxsize=None)
def _instrument_timbre(instrument):
  """Returns (_Timbre, partial gains [_MAX_PARTIALS], bar ratios [5])."""
  family = instrument_family(instrument)
  base = _FAMILIES[family]
  rng = np.random.default_rng([_INSTRUMENT_SEED, instrument])
  lognormal = lambda sigma: float(np.exp(rng.normal(0.0, sigma)))
  low = base.low + int(rng.integers(0, 7))
  high = base.high - int(rng.integers(0, 7))
  timbre = dataclasses.replace(
      base, low=low, high=high,
      slope=base.slope * lognormal(0.15),
      even_gain=min(1.0, base.even_gain * lognormal(0.3)),
      stiffness=base.stiffness * lognormal(0.4),
      attack_s=base.attack_s * lognormal(0.3),
      decay_s=base.decay_s * lognormal(0.25),
      release_s=base.release_s * lognormal(0.2),
      vibrato_cents=base.vibrato_cents * float(rng.uniform(0.6, 1.3)),
      vibrato_hz=base.vibrato_hz + float(rng.uniform(-0.8, 0.8)),
      noise=base.noise * lognormal(0.3),
      bloom=base.bloom * lognormal(0.2),
      formant_hz=float(np.exp(rng.uniform(np.log(400.0), np.log(4000.0)))),
      formant_db=float(rng.uniform(3.0, 9.0)))
  gains_db = rng.normal(0.0, base.jitter_db, _MAX_PARTIALS)
  # The fundamental keeps its level: the note's pitch stays unambiguous.
  gains_db[0] = 0.0
  modes = np.array(_FREE_BAR_MODES) * np.exp(
      np.r_[0.0, rng.normal(0.0, 0.03, len(_FREE_BAR_MODES) - 1)])
  return timbre, 10.0 ** (gains_db / 20.0), modes


def pitch_range(instrument: int) -> tuple:
  """Returns (lowest, highest) MIDI pitch the instrument plays, inclusive."""
  timbre, _, _ = _instrument_timbre(int(instrument))
  return timbre.low, timbre.high


def _midi_to_hz(pitch):
  return 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)


def _partial_ratios(timbre, modes):
  """Returns partial frequencies over f0 and the partial index k, [K]."""
  if timbre.bar:
    ratios = modes[:timbre.num_partials]
    k = np.arange(1, len(ratios) + 1, dtype=np.float64)
    return ratios, k
  k = np.arange(1, timbre.num_partials + 1, dtype=np.float64)
  return k * np.sqrt(1.0 + timbre.stiffness * k**2), k


def _shaped_noise(num_samples, sample_rate, centre_hz, rng):
  """Unit-RMS noise with a one-octave-wide log-Gaussian band, [num_samples]."""
  spectrum = np.fft.rfft(rng.standard_normal(num_samples))
  freqs = np.fft.rfftfreq(num_samples, 1.0 / sample_rate)
  octaves = np.log2(np.maximum(freqs, 1.0) / centre_hz)
  noise = np.fft.irfft(spectrum * np.exp(-0.5 * octaves**2), num_samples)
  return noise / (np.sqrt(np.mean(noise**2)) + 1e-12)


def _sum_partials(ratios, phases, log_amps, exponents, rates, cycles, log_env,
                  t, block=8192):
  """Returns sum_k a_k(t) sin(2 pi (ratios_k cycles(t) + phases_k)), [N].

  The amplitudes are log a_k(t) = log_amps_k + exponents_k log_env(t)
  - rates_k t, so one exp serves every partial.

  Args:
    ratios, phases, log_amps, exponents, rates: [K] float64.
    cycles, log_env, t: [N] float64; cycles is the fundamental's phase in
      cycles.
    block: Samples per block; [K, block] temporaries stay in cache, which
      makes this several times faster than one [K, N] pass.
  """
  out = np.empty(len(t))
  exponents32 = exponents.astype(np.float32)[:, None]
  rates32 = rates.astype(np.float32)[:, None]
  log_amps32 = log_amps.astype(np.float32)[:, None]
  for start in range(0, len(t), block):
    s = slice(start, start + block)
    # Phases are reduced to [0, 1) cycles in float64 (they reach 1e5 cycles)
    # before the float32 sine.
    x = np.multiply.outer(ratios, cycles[s])
    x += phases[:, None]
    x -= np.floor(x)
    sines = x.astype(np.float32)
    sines *= np.float32(2 * np.pi)
    np.sin(sines, out=sines)
    amps = exponents32 * log_env[s].astype(np.float32)
    amps -= rates32 * t[s].astype(np.float32)
    amps += log_amps32
    np.exp(amps, out=amps)
    out[s] = np.einsum("kn,kn->n", amps, sines)
  return out


def synthesize_note(family: int, instrument: int, pitch: int,
                    velocity: float, duration_s: float, sample_rate: int,
                    rng: np.random.Generator) -> np.ndarray:
  """Synthesises one note of an instrument, additively.

  The signal is sum_k a_k(t) sin(2 pi r_k phi(t) + theta_k), where phi is the
  fundamental's phase in cycles (with vibrato), r_k the partial ratios (k for
  harmonic families, stretched for keyboards, bar modes for mallets) and a_k
  the partial amplitude envelopes. Partials whose frequency could reach the
  Nyquist frequency are dropped, so there is no aliasing.

  Args:
    family: Family index into FAMILY_NAMES; must be
      `instrument_family(instrument)`.
    instrument: Instrument label in [0, NUM_INSTRUMENTS).
    pitch: MIDI note number, not only in `pitch_range(instrument)`: any
      pitch whose fundamental stays below the Nyquist frequency.
    velocity: Loudness in (0, 1]: the peak amplitude is 0.9 * velocity, and
      softer notes are also darker.
    duration_s: Note length in seconds; the note is released after 3/4 of it.
    sample_rate: Samples per second.
    rng: Source of the note's own randomness (detune of up to 8 cents,
      phases, vibrato phase, decay jitter, noise).

  Returns:
    [round(duration_s * sample_rate)] float32, finite, peak 0.9 * velocity.

  Raises:
    ValueError: if an argument is out of range or family and instrument
      disagree.
  """
  _check_instrument(instrument)
  if family != instrument_family(instrument):
    raise ValueError(
        f"instrument {instrument} belongs to family "
        f"{instrument_family(instrument)} "
        f"({FAMILY_NAMES[instrument_family(instrument)]}), not {family}.")
  if not 0.0 < velocity <= 1.0:
    raise ValueError(f"velocity must be in (0, 1], got {velocity}.")
  num_samples = int(round(duration_s * sample_rate))
  if num_samples <= 0:
    raise ValueError(f"duration_s * sample_rate must be at least one sample, "
                     f"got {duration_s} * {sample_rate}.")
  timbre, gains, modes = _instrument_timbre(instrument)
  nyquist = sample_rate / 2.0
  # The highest instantaneous frequency is reached at the vibrato's peak.
  max_bend = 2.0 ** ((timbre.vibrato_cents + _MAX_DETUNE_CENTS) / 1200.0)
  if not 0 <= pitch <= 127 or _midi_to_hz(pitch) * max_bend >= nyquist:
    raise ValueError(f"pitch must be a MIDI note in [0, 127] whose "
                     f"fundamental, detuned and bent by vibrato, stays below "
                     f"{nyquist} Hz; got {pitch}.")

  # A fixed number of draws whatever the partial count: the same rng gives
  # the same detune and phases at any sample rate.
  detune_cents = rng.uniform(-_MAX_DETUNE_CENTS, _MAX_DETUNE_CENTS)
  phases = rng.uniform(0.0, 1.0, _MAX_PARTIALS)
  vibrato_phase = rng.uniform(0.0, 1.0)
  decay_jitter = np.exp(rng.normal(0.0, 0.1))

  f0 = _midi_to_hz(pitch + detune_cents / 100.0)
  ratios, k = _partial_ratios(timbre, modes)
  keep = f0 * ratios * 2.0 ** (timbre.vibrato_cents / 1200.0) < nyquist
  ratios, k = ratios[keep], k[keep]
  freqs = f0 * ratios

  slope = timbre.slope * (1.0 + 0.4 * (1.0 - velocity))
  amps = k**-slope * gains[:len(k)]
  if not timbre.bar:
    amps = amps * np.where(k % 2 == 0, timbre.even_gain, 1.0)
  if timbre.formant_db:
    octaves = np.log2(freqs / timbre.formant_hz)
    amps = amps * 10.0 ** (timbre.formant_db / 20.0 * np.exp(
        -0.5 * (octaves / 0.5)**2))

  t = np.arange(num_samples) / sample_rate
  # Struck and plucked notes ring longer in the bass (one octave: x1.4).
  decay_s = timbre.decay_s * decay_jitter * 2.0 ** (-(pitch - 60) / 24.0)
  rates = (1.0 + timbre.decay_tilt * (k - 1.0)) / decay_s
  hold_s = _HOLD_FRACTION * duration_s
  log_env = (np.log(np.clip(t / timbre.attack_s, 1e-4, 1.0))
             - np.maximum(t - hold_s, 0.0) / timbre.release_s)
  if timbre.vibrato_cents > 0:
    # Vibrato fades in over the first 0.3 s, as players do.
    depth = timbre.vibrato_cents * np.minimum(t / 0.3, 1.0)
    bend = 2.0 ** (depth / 1200.0 * np.sin(
        2 * np.pi * (timbre.vibrato_hz * t + vibrato_phase)))
    cycles = np.cumsum(f0 * bend) / sample_rate
  else:
    cycles = f0 * t
  signal = _sum_partials(ratios, phases[:len(k)], np.log(amps),
                         1.0 + timbre.bloom * (k - 1.0), rates, cycles,
                         log_env, t)

  if timbre.noise > 0:
    noise = _shaped_noise(num_samples, sample_rate,
                          min(timbre.formant_hz * 1.5, 0.6 * nyquist), rng)
    rms = np.sqrt(np.mean(signal**2))
    signal = signal + timbre.noise * rms * noise * np.exp(log_env)

  peak = np.max(np.abs(signal))
  return (signal * (0.9 * velocity / peak)).astype(np.float32)


@dataclasses.dataclass(eq=False)
class SyntheticNotesConfig(tfds.core.BuilderConfig):
  """Size and seed of a synthetic notes data set.

  Attributes:
    duration_s: Length of every note in seconds (NSynth: 4).
    sample_rate: Samples per second (NSynth: 16000).
    num_train: Number of notes in the "train" split.
    num_validation: Number of notes in the "validation" split.
    num_test: Number of notes in the "test" split.
    seed: Seed of the notes drawn (instruments are fixed for all seeds).
  """
  duration_s: float = 4.0
  sample_rate: int = 16000
  num_train: int = 6000
  num_validation: int = 500
  num_test: int = 1000
  seed: int = 0

  def __post_init__(self):
    if self.duration_s <= 0:
      raise ValueError(f"duration_s must be positive, got {self.duration_s}.")
    highest = max(pitch_range(i)[1] for i in range(NUM_INSTRUMENTS))
    # With room for detune and vibrato (a quarter tone).
    if _midi_to_hz(highest + 0.5) >= self.sample_rate / 2:
      raise ValueError(
          f"sample_rate {self.sample_rate} is too low for the highest pitch "
          f"{highest} ({_midi_to_hz(highest):.0f} Hz); use at least "
          f"{int(np.ceil(_midi_to_hz(highest + 0.5) * 2)) + 1}.")
    for split in SPLITS:
      if getattr(self, f"num_{split}") < 1:
        raise ValueError(f"num_{split} must be at least 1, got "
                         f"{getattr(self, f'num_{split}')}.")


def draw_note(seed: int, split: str, index: int) -> dict:
  """Draws the labels of one note of a split, and the rng that renders it.

  Args:
    seed: The config seed.
    split: One of SPLITS.
    index: Position of the note in the split.

  Returns:
    A dict with "family", "instrument", "pitch" (ints), "velocity" (float)
    and "rng", the generator to pass to `synthesize_note`.
  """
  rng = embedded.example_rng(seed, split, index)
  instrument = int(rng.integers(NUM_INSTRUMENTS))
  low, high = pitch_range(instrument)
  return {"family": instrument_family(instrument), "instrument": instrument,
          "pitch": int(rng.integers(low, high + 1)),
          "velocity": float(rng.uniform(0.4, 1.0)), "rng": rng}


class SyntheticNotes(tfds.core.GeneratorBasedBuilder):
  """NSynth-like notes synthesised locally, deterministically."""

  name = "s2l_synthetic_notes"
  VERSION = tfds.core.Version("1.1.0")
  RELEASE_NOTES = {
      "1.0.0": "Initial release.",
      "1.1.0": "16-bit PCM audio (half the disk); 6000/500/1000 notes, so "
               "probes can use up to 5000 labelled notes as in the paper.",
  }
  BUILDER_CONFIGS = [
      SyntheticNotesConfig(
          name="default",
          description="4 s notes at 16 kHz, as NSynth; 6000/500/1000 notes."),
      SyntheticNotesConfig(
          name="tiny", description="1 s notes, 24/8/8 notes, for tests.",
          duration_s=1.0, num_train=24, num_validation=8, num_test=8),
  ]
  DEFAULT_CONFIG_NAME = "default"

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    num_samples = int(round(config.duration_s * config.sample_rate))
    return tfds.core.DatasetInfo(
        builder=self,
        description=_DESCRIPTION,
        features=tfds.features.FeaturesDict({
            # int16 like NSynth's WAVs; s2l's spectrogram front end scales
            # it to [-1, 1).
            "audio": embedded.RawAudio(shape=(num_samples,),
                                       dtype=tf.int16,
                                       sample_rate=config.sample_rate),
            "id": tfds.features.Text(),
            "instrument": tfds.features.FeaturesDict({
                "family": tfds.features.ClassLabel(names=FAMILY_NAMES),
                "label": tfds.features.ClassLabel(
                    num_classes=NUM_INSTRUMENTS),
            }),
            "pitch": tfds.features.ClassLabel(num_classes=128),
        }),
        supervised_keys=None,
    )

  def _split_generators(self, dl_manager):
    del dl_manager  # Nothing to download.
    return {split: self._generate_examples(split) for split in SPLITS}

  def _generate_examples(self, split):
    config = self.builder_config
    for index in range(getattr(config, f"num_{split}")):
      note = draw_note(config.seed, split, index)
      audio = synthesize_note(
          note["family"], note["instrument"], note["pitch"], note["velocity"],
          config.duration_s, config.sample_rate, note["rng"])
      key = f"{split}_{index:05d}"
      yield key, {
          "audio": embedded.to_pcm16(audio),
          "id": key,
          "instrument": {"family": note["family"],
                         "label": note["instrument"]},
          "pitch": note["pitch"],
      }
