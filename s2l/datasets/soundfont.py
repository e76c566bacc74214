"""A SoundFont 2 reader and a sample-playback renderer of single notes (numpy).

`soundfont_notes` renders NSynth-like notes of real instruments from a General
MIDI SoundFont; this module is the player. It follows the SoundFont 2.01
specification (E-mu Systems, 1998) for what decides how one held note of a
preset sounds, and nothing more:

* `SoundFont.load` parses the RIFF 'sfbk' file: LIST INFO (the bank's name),
  LIST sdta ('smpl', 16-bit samples; a 24-bit 'sm24' is ignored) and LIST
  pdta (phdr/pbag/pgen/inst/ibag/igen/shdr; pmod/imod are read past).
  Global zones give defaults that a zone's own generators replace; a
  non-first zone without its instrument (41) or sampleID (53) is ignored.
* `SoundFont.regions` pairs every preset zone with every instrument zone of
  its instrument: key (43) and velocity (44) ranges are intersected across
  the two levels; preset-level generators add to instrument-level ones
  (defaults where absent), except the sample-level ones (address offsets,
  sampleModes, overridingRootKey), which the spec ignores at preset level.
* `render_note` mixes every region that matches (key, velocity). Each sample
  is read at a fractional rate, with linear interpolation (after an
  anti-aliasing low-pass when it is read faster than the output), from its own
  sample rate and root key (overridingRootKey 58, else the sample's
  originalPitch), tuned by scaleTuning (56) and coarseTune (51), fineTune
  (52) and the sample's pitch correction summed; it loops between its loop
  points for sampleModes (54) 1, and for 3 until the note-off, after which
  it plays on to the end. Address offsets (0-4, 12, 45, 50) move the points.
  The DAHDSR volume envelope (33-38, with keynumToVolEnvHold/Decay 39/40):
  linear-amplitude attack, decay and release linear in dB, where a decay or
  release time is that of a 100 dB change; sustain (37) is an attenuation in
  centibels. initialAttenuation (48) is in centibels, as the spec says (some
  players scale it by 0.4; this one does not).

Choices where the spec leaves room or a mono NSynth note asks for one:

* Velocity: an amplitude factor (velocity / 127)^2, which is the spec's
  default velocity-to-attenuation modulator (a concave 960 cB curve,
  40 log10(127 / v) dB). Other modulators are ignored.
* Mono: pan is ignored; a sample marked left or right (sampleType 4 or 2)
  sounds at half gain, so that a stereo pair of zones mixes to (L + R) / 2.
* Anti-aliasing: a sample read faster than the output rate (a 44.1 kHz
  sample at 16 kHz, or one pitched up) is first low-passed below the output's
  Nyquist frequency (FFT mask, flat to 85% of it), its loop circularly so
  that the loop stays seamless; otherwise its partials above 8 kHz would fold
  back as inharmonic tones.
* Ignored: modulators, filter, LFOs, modulation envelope, pan, reverb and
  chorus sends, exclusive classes, keynum (46) and velocity (47) overrides,
  ROM samples.
* The note ends inside its buffer: it fades out with a raised cosine over
  `FADE_S` seconds, and its last `SILENT_TAIL_S` seconds are exactly 0, so a
  release longer than the buffer is cut rather than bleeding past it.
"""

import dataclasses
import os
import struct
from typing import Dict, List, Tuple

import numpy as np

# The end of every note: a raised-cosine fade, then exact zeros.
FADE_S = 0.01
SILENT_TAIL_S = 0.001
# Generator numbers (SoundFont 2.01, section 8.1.2).
_INSTRUMENT, _KEY_RANGE, _VEL_RANGE, _SAMPLE_ID = 41, 43, 44, 53
_SAMPLE_MODES, _ROOT_KEY = 54, 58
# Sample-level generators: ignored at preset level (section 8.5).
_SAMPLE_ONLY = frozenset({0, 1, 2, 3, 4, 12, 45, 46, 47, 50, 54, 57, 58})
_UNSIGNED = frozenset({_INSTRUMENT, _SAMPLE_ID, _SAMPLE_MODES})
# Zeros after a sample when it is low-passed, so that the filter's tails do
# not wrap around.
_ANTIALIAS_PAD = 4096
_DEFAULTS = {
    0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 12: 0, 45: 0, 50: 0,  # address offsets
    33: -12000, 34: -12000, 35: -12000, 36: -12000, 37: 0, 38: -12000,
    39: 0, 40: 0, 48: 0, 51: 0, 52: 0, 54: 0, 56: 100, 58: -1,
}
_PDTA = {  # Record layouts; each list ends with a terminal record.
    "phdr": np.dtype([("name", "S20"), ("program", "<u2"), ("bank", "<u2"),
                      ("bag", "<u2"), ("library", "<u4"), ("genre", "<u4"),
                      ("morphology", "<u4")]),
    "pbag": np.dtype([("gen", "<u2"), ("mod", "<u2")]),
    "pmod": np.dtype("V10"),
    "pgen": np.dtype([("oper", "<u2"), ("amount", "<u2")]),
    "inst": np.dtype([("name", "S20"), ("bag", "<u2")]),
    "ibag": np.dtype([("gen", "<u2"), ("mod", "<u2")]),
    "imod": np.dtype("V10"),
    "igen": np.dtype([("oper", "<u2"), ("amount", "<u2")]),
    "shdr": np.dtype([("name", "S20"), ("start", "<u4"), ("end", "<u4"),
                      ("loop_start", "<u4"), ("loop_end", "<u4"),
                      ("rate", "<u4"), ("pitch", "u1"), ("correction", "i1"),
                      ("link", "<u2"), ("type", "<u2")]),
}


@dataclasses.dataclass(frozen=True)
class Sample:
  """A sample header (shdr); addresses index the 'smpl' data, end exclusive."""
  name: str
  start: int
  end: int
  loop_start: int
  loop_end: int
  rate: int
  original_pitch: int
  correction: int
  type: int


@dataclasses.dataclass(frozen=True)
class Region:
  """What sounds for a key and velocity range: one instrument zone under one
  preset zone, with `generators` the effective value of each generator of
  `_DEFAULTS`."""
  keys: Tuple[int, int]
  velocities: Tuple[int, int]
  sample: Sample
  generators: Dict[int, int]


def _decode(oper, amount):
  if oper in (_KEY_RANGE, _VEL_RANGE):
    return (amount & 0xFF, amount >> 8)
  return amount if oper in _UNSIGNED or amount < 0x8000 else amount - 0x10000


def _zones(bags, gens, first, last, terminal):
  """Zones of bags [first, last) as {generator: value}, global zone merged."""
  zones, global_zone = [], {}
  for b in range(first, last):
    gen = gens[bags[b]["gen"]:bags[b + 1]["gen"]]
    zone = {int(o): _decode(int(o), int(a))
            for o, a in zip(gen["oper"], gen["amount"])}
    if terminal in zone:
      zones.append(zone)
    elif b == first:
      global_zone = zone
  return [{**global_zone, **zone} for zone in zones]


def _name(raw):
  return raw.split(b"\0", 1)[0].decode("latin-1").strip()


def _chunks(path, data, start, stop):
  """{chunk id: (start, stop)} of the RIFF chunks in data[start:stop]."""
  chunks = {}
  while start + 8 <= stop:
    cid, size = struct.unpack_from("<4sI", data, start)
    if start + 8 + size > stop:
      raise ValueError(f"{path} is truncated or corrupt: chunk {cid!r} "
                       f"declares {size} bytes, only {stop - start - 8} "
                       "remain.")
    key = cid.decode("latin-1")
    if key == "LIST":
      key = data[start + 8:start + 12].decode("latin-1")
      chunks[key] = (start + 12, start + 8 + size)
    else:
      chunks[key] = (start + 8, start + 8 + size)
    start += 8 + size + (size & 1)
  return chunks


def _require(path, chunks, key, where):
  if key not in chunks:
    raise ValueError(f"{path} is not a valid SoundFont 2 file: it has no "
                     f"{key!r} chunk in {where}.")
  return chunks[key]


@dataclasses.dataclass(eq=False)
class SoundFont:
  """A parsed SoundFont 2 bank.

  Attributes:
    path: The file it was read from.
    name: The bank's name (INFO 'INAM').
    presets: {(bank, program): (preset name, [zone {generator: value}])}.
    instruments: [(instrument name, [zone {generator: value}])].
    samples: The sample headers, in file order.
    data: [num_samples] int16, the 'smpl' chunk.
  """
  path: str
  name: str
  presets: Dict[Tuple[int, int], Tuple[str, List[dict]]]
  instruments: List[Tuple[str, List[dict]]]
  samples: List[Sample]
  data: np.ndarray
  _regions: dict = dataclasses.field(default_factory=dict, repr=False)

  @classmethod
  def load(cls, path: str) -> "SoundFont":
    """Reads a .sf2 file.

    Raises:
      FileNotFoundError: If there is no file at `path`.
      ValueError: If it is not a SoundFont 2 file, or is truncated.
    """
    if not os.path.isfile(path):
      raise FileNotFoundError(f"SoundFont {path} does not exist; pass the "
                              "path of a .sf2 file.")
    with open(path, "rb") as f:
      data = f.read()
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"sfbk":
      raise ValueError(f"{path} is not a SoundFont 2 file: it does not start "
                       f"with a RIFF 'sfbk' header (found {data[:12]!r}).")
    riff_end = 8 + struct.unpack_from("<I", data, 4)[0]
    if riff_end > len(data):
      raise ValueError(f"{path} is truncated: its RIFF header declares "
                       f"{riff_end} bytes, the file has {len(data)}.")
    top = _chunks(path, data, 12, riff_end)
    info = _chunks(path, data, *_require(path, top, "INFO", "the file"))
    sdta = _chunks(path, data, *_require(path, top, "sdta", "the file"))
    pdta = _chunks(path, data, *_require(path, top, "pdta", "the file"))
    start, stop = _require(path, sdta, "smpl", "LIST sdta")
    samples = np.frombuffer(data, "<i2", (stop - start) // 2, start)
    records = {}
    for key, dtype in _PDTA.items():
      start, stop = _require(path, pdta, key, "LIST pdta")
      if (stop - start) % dtype.itemsize or stop == start:
        raise ValueError(f"{path} is corrupt: its {key!r} chunk has "
                         f"{stop - start} bytes, not a positive multiple of "
                         f"{dtype.itemsize}.")
      records[key] = np.frombuffer(data, dtype, (stop - start)
                                   // dtype.itemsize, start)
    for header, bag, gen in (("phdr", "pbag", "pgen"),
                             ("inst", "ibag", "igen")):
      bags, gens = records[header]["bag"], records[bag]["gen"]
      if (np.any(np.diff(bags.astype(int)) < 0) or bags[-1] >= len(gens)
          or np.any(np.diff(gens.astype(int)) < 0)
          or gens[-1] > len(records[gen])):
        raise ValueError(f"{path} is corrupt: its {header!r}/{bag!r} "
                         "indices run backwards or past their lists.")
    name = path
    if "INAM" in info:
      name = _name(data[slice(*info["INAM"])])
    phdr, inst, shdr = records["phdr"], records["inst"], records["shdr"]
    presets = {}
    for i in range(len(phdr) - 1):
      zones = _zones(records["pbag"], records["pgen"], phdr[i]["bag"],
                     phdr[i + 1]["bag"], _INSTRUMENT)
      presets.setdefault((int(phdr[i]["bank"]), int(phdr[i]["program"])),
                         (_name(phdr[i]["name"]), zones))
    instruments = [
        (_name(inst[i]["name"]),
         _zones(records["ibag"], records["igen"], inst[i]["bag"],
                inst[i + 1]["bag"], _SAMPLE_ID))
        for i in range(len(inst) - 1)]
    headers = [Sample(_name(s["name"]), int(s["start"]), int(s["end"]),
                      int(s["loop_start"]), int(s["loop_end"]), int(s["rate"]),
                      int(s["pitch"]), int(s["correction"]), int(s["type"]))
               for s in shdr[:-1]]
    return cls(path, name, presets, instruments, headers, samples)

  def regions(self, bank: int, program: int) -> Tuple[Region, ...]:
    """The regions of a preset, resolved across its two levels (cached).

    Raises:
      ValueError: If the bank has no such preset, naming a few it has.
    """
    if (bank, program) not in self.presets:
      some = ", ".join(f"{b}:{p} {self.presets[(b, p)][0]!r}"
                       for b, p in sorted(self.presets)[:8])
      raise ValueError(f"{self.path} has no preset bank {bank} program "
                       f"{program}; it has {len(self.presets)} presets "
                       f"(bank:program), e.g. {some}.")
    if (bank, program) not in self._regions:
      regions = []
      for pzone in self.presets[(bank, program)][1]:
        if pzone[_INSTRUMENT] >= len(self.instruments):
          continue
        for izone in self.instruments[pzone[_INSTRUMENT]][1]:
          if izone[_SAMPLE_ID] >= len(self.samples):
            continue
          ranges = []
          for gen in (_KEY_RANGE, _VEL_RANGE):
            (a, b), (c, d) = (z.get(gen, (0, 127)) for z in (pzone, izone))
            ranges.append((max(a, c), min(b, d)))
          if any(low > high for low, high in ranges):
            continue
          generators = {g: izone.get(g, default) + (
              0 if g in _SAMPLE_ONLY else pzone.get(g, 0))
                        for g, default in _DEFAULTS.items()}
          regions.append(Region(ranges[0], ranges[1],
                                self.samples[izone[_SAMPLE_ID]], generators))
      self._regions[(bank, program)] = tuple(regions)
    return self._regions[(bank, program)]


def _seconds(timecents, low=-12000, high=8000):
  return 2.0 ** (np.clip(timecents, low, high) / 1200.0)


def volume_envelope(generators: Dict[int, int], key: int, sample_rate: int,
                    num_samples: int, hold_s: float) -> np.ndarray:
  """The DAHDSR volume envelope of a region, as an amplitude.

  Args:
    generators: A `Region.generators`.
    key: MIDI key, for keynumToVolEnvHold/Decay.
    sample_rate: Samples per second.
    num_samples: Length of the output.
    hold_s: Time of the note-off, which starts the release.

  Returns:
    [num_samples] float64 in [0, 1].
  """
  delay = _seconds(generators[33], high=5000)
  attack = _seconds(generators[34])
  hold = _seconds(generators[35] + generators[39] * (60 - key), high=5000)
  decay = _seconds(generators[36] + generators[40] * (60 - key))
  sustain_cb = float(np.clip(generators[37], 0, 1440))
  release = _seconds(generators[38])

  def held(t):
    rise = np.clip((t - delay) / attack, 0.0, 1.0)
    fall_cb = np.minimum(np.maximum(t - delay - attack - hold, 0.0) * 1000.0
                         / decay, sustain_cb)
    return rise * 10.0 ** (-fall_cb / 200.0)

  t = np.arange(num_samples) / sample_rate
  envelope = held(np.minimum(t, hold_s))
  released_cb = np.maximum(t - hold_s, 0.0) * 1000.0 / release
  envelope *= 10.0 ** (-released_cb / 200.0)
  # A voice ends 100 dB below its level at the note-off.
  envelope[released_cb >= 1000.0] = 0.0
  return envelope


def _lowpass(x, cutoff, pad):
  """x [n] low-passed below `cutoff` cycles per sample, zero-phase.

  The gain is 1 up to 0.85 cutoff, falls as a raised cosine and is 0 from
  `cutoff` up. With pad 0 the filtering is circular (for a loop).
  """
  n = len(x) + pad
  freqs = np.fft.rfftfreq(n)
  edge = 0.85 * cutoff
  gain = 0.5 * (1.0 + np.cos(np.pi * np.clip(
      (freqs - edge) / (cutoff - edge), 0.0, 1.0)))
  return np.fft.irfft(np.fft.rfft(x, n) * gain, n)[:len(x)]


def _play_sample(data, region, key, sample_rate, num_samples, hold_samples):
  """Reads a region's sample pitched to `key`: [num_samples] float64."""
  s, g = region.sample, region.generators
  start = min(max(s.start + g[0] + 32768 * g[4], 0), len(data))
  end = min(max(s.end + g[1] + 32768 * g[12], start), len(data))
  if end - start < 2 or s.rate <= 0 or s.type & 0x8000:
    return np.zeros(num_samples)
  wave = data[start:end].astype(np.float64) / 32768.0
  loop_start = s.loop_start + g[2] + 32768 * g[45] - start
  loop_end = s.loop_end + g[3] + 32768 * g[50] - start
  mode = g[_SAMPLE_MODES] & 3
  loops = mode in (1, 3) and 0 <= loop_start < loop_end <= end - start
  root = g[_ROOT_KEY] if 0 <= g[_ROOT_KEY] <= 127 else s.original_pitch
  cents = g[56] * (key - root) + 100 * g[51] + g[52] + s.correction
  step = 2.0 ** (cents / 1200.0) * s.rate / sample_rate
  if step > 1.0:  # Read faster than the output rate: band-limit first.
    cutoff = 0.5 / step
    filtered = _lowpass(wave, cutoff, _ANTIALIAS_PAD)
    if loops:  # The loop as the periodic signal it plays.
      filtered[loop_start:loop_end] = _lowpass(wave[loop_start:loop_end],
                                               cutoff, 0)
    wave = filtered
  wave = np.append(wave, 0.0)
  position = np.arange(num_samples) * step
  looping = np.zeros(num_samples, bool)
  if loops:
    looping = position >= loop_start
    if mode == 3:
      looping[hold_samples:] = False
    length = loop_end - loop_start
    position[looping] = loop_start + np.mod(position[looping] - loop_start,
                                            length)
    if mode == 3 and hold_samples < num_samples:
      # After the note-off, play on from where the loop was, to the end.
      at_off = position[hold_samples - 1] + step if hold_samples else 0.0
      position[hold_samples:] = at_off + step * np.arange(
          num_samples - hold_samples)
  index = np.floor(position).astype(np.int64)
  frac = position - index
  following = index + 1
  following[looping & (following >= loop_end)] -= loop_end - loop_start
  last = len(wave) - 1  # The appended zero: reading past the end is silence.
  index, following = np.minimum(index, last), np.minimum(following, last)
  return wave[index] * (1.0 - frac) + wave[following] * frac


def render_note(soundfont: SoundFont, bank: int, program: int, pitch: int,
                velocity: int, sample_rate: int = 16000,
                duration_s: float = 4.0, hold_s: float = 3.0) -> np.ndarray:
  """Renders one note of a preset, mono, released at `hold_s`.

  Every region whose key and velocity ranges hold (pitch, velocity) sounds;
  a note no region covers is silence. Nothing is carried between calls.

  Args:
    soundfont: A loaded `SoundFont`.
    bank: Preset bank (0 for General MIDI melodic presets).
    program: Preset number, 0..127.
    pitch: MIDI key, 0..127.
    velocity: MIDI velocity, 1..127; gain (velocity / 127)^2.
    sample_rate: Output samples per second.
    duration_s: Length of the output; it ends with a `FADE_S` fade and
      `SILENT_TAIL_S` of exact zeros.
    hold_s: Time of the note-off, in (0, duration_s].

  Returns:
    [round(duration_s * sample_rate)] float32, unnormalised (a loud preset
    at velocity 127 peaks near 1, and mixed regions may exceed it).

  Raises:
    ValueError: For an argument out of range or a preset the bank lacks.
  """
  if not 0 <= pitch <= 127 or not 1 <= velocity <= 127:
    raise ValueError(f"pitch must be in [0, 127] and velocity in [1, 127], "
                     f"got {pitch} and {velocity}.")
  num_samples = int(round(duration_s * sample_rate))
  if num_samples < 1 or not 0 < hold_s <= duration_s:
    raise ValueError(f"need duration_s * sample_rate >= 1 and 0 < hold_s <= "
                     f"duration_s, got {duration_s}, {sample_rate}, {hold_s}.")
  hold_samples = int(round(hold_s * sample_rate))
  out = np.zeros(num_samples)
  for region in soundfont.regions(bank, program):
    if not (region.keys[0] <= pitch <= region.keys[1]
            and region.velocities[0] <= velocity <= region.velocities[1]):
      continue
    g = region.generators
    gain = (velocity / 127.0) ** 2 * 10.0 ** (-np.clip(g[48], 0, 1440) / 200.)
    if region.sample.type & 6:  # One side of a stereo pair.
      gain *= 0.5
    out += gain * volume_envelope(g, pitch, sample_rate, num_samples,
                                  hold_s) * _play_sample(
                                      soundfont.data, region, pitch,
                                      sample_rate, num_samples, hold_samples)
  zeros = min(num_samples, max(1, int(round(SILENT_TAIL_S * sample_rate))))
  fade = min(num_samples - zeros, int(round(FADE_S * sample_rate)))
  out[num_samples - zeros - fade:num_samples - zeros] *= 0.5 * (
      1.0 + np.cos(np.pi * np.arange(fade) / fade))
  out[num_samples - zeros:] = 0.0
  return out.astype(np.float32)
