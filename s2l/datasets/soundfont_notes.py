"""An embedded NSynth-like data set of real-instrument notes from a SoundFont.

`synthetic_notes` (paper section 3.1's stand-in for NSynth) synthesises its
timbres; this module renders notes of recorded instruments instead, from a
General MIDI SoundFont played by `s2l.datasets.soundfont`. By default it reads
TimGM6mb.sf2, the 6 MB bank that ships inside the `pretty_midi` package, so it
needs no download.

* `SoundFontNotes`, a TFDS builder named `s2l_soundfont_notes` whose features
  mirror TFDS `nsynth` like `s2l_synthetic_notes`: `audio` (4 s at 16 kHz,
  16-bit PCM), `id` (e.g. "acoustic_grand_piano-060-100"),
  `instrument/family` (the 14 melodic General MIDI groups of programs 0-111),
  `instrument/label` (the program, 0-111), `pitch` and `velocity`.
* `write_folder`, and `python -m s2l.datasets.soundfont_notes --sf2=PATH
  --output_dir=DIR`, which write the same notes from any .sf2 as WAV files
  and a manifest that `audio_folder.AudioFolder` reads.

How a note is drawn and rendered:

* Each note is a pure function of (config seed, split, index) and of the
  programs the SoundFont has (bank 0 presets 0-111; missing ones are skipped
  and logged), like NSynth's (instrument, pitch, velocity) grid: a program,
  a MIDI pitch in its group's `PITCH_RANGES` and a velocity among NSynth's
  `VELOCITIES`. Ranges overlap (60-84 is played by every group but bass), so
  pitch does not give the family away.
* Each program's (pitch, velocity) combinations are shuffled and dealt to
  the splits in proportion to their sizes, so no note is in two splits
  (rendering is deterministic: a note drawn in train and test would be the
  same audio there). A split visits its programs in rounds, each round in a
  new random order, taking a program's next combination each time: every
  program has the same number of notes (+-1), and no note repeats unless a
  split asks for more notes than it owns (the default draws 7,500 of the
  25,360 combinations).
  `embedded.example_rng`'s independent draw per index could give neither.
* Rendering: 4 s, note-off at 3 s (as NSynth); `soundfont.render_note`
  fades the note out so that its last millisecond is exactly 0.
  Loudness: each note is peak-normalised to 0.9 (velocity / 127)^2, which
  removes the bank's per-preset mixing levels and keeps velocity dynamics
  with the renderer's velocity curve (-29 dB at velocity 25).
* A render whose raw peak is below `SILENCE_PEAK` (no zone covers that key
  and velocity, as for BariSax above MIDI 79 in TimGM6mb) is dropped: its
  index is skipped, so a split holds fewer notes than configured, and the
  counts are logged and kept in `info.metadata["silent_dropped"]`.

Generating the default config from TimGM6mb.sf2 took 33 s on 2 shared CPU
cores (1.5 GB peak memory, 0.9 GB on disk); 42 of the 7,500 notes were
silent (whistle above MIDI 78, baritone sax above 79, one alto sax key), so
the splits hold 5,966 / 499 / 993 notes. "tiny" takes under a second.

    import s2l.datasets.soundfont_notes  # Registers the builder.
    builder = tfds.builder("s2l_soundfont_notes", data_dir=...)
    builder.download_and_prepare()
"""

import csv
import dataclasses
import functools
import importlib.util
import os
import wave
from typing import Dict, Iterator, Optional, Tuple

from absl import app
from absl import flags
from absl import logging
import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from s2l.datasets import embedded
from s2l.datasets import soundfont as soundfont_lib

SPLITS = embedded.SPLITS
FAMILY_NAMES = ("piano", "chromatic_percussion", "organ", "guitar", "bass",
                "strings", "ensemble", "brass", "reed", "pipe", "synth_lead",
                "synth_pad", "synth_effects", "ethnic")
PROGRAMS_PER_FAMILY = 8
NUM_PROGRAMS = len(FAMILY_NAMES) * PROGRAMS_PER_FAMILY
# General MIDI level 1 melodic programs 0-111 (percussive and sound effects
# 112-127 left out).
PROGRAM_NAMES = (
    "acoustic_grand_piano", "bright_acoustic_piano", "electric_grand_piano",
    "honky_tonk_piano", "electric_piano_1", "electric_piano_2", "harpsichord",
    "clavinet", "celesta", "glockenspiel", "music_box", "vibraphone",
    "marimba", "xylophone", "tubular_bells", "dulcimer", "drawbar_organ",
    "percussive_organ", "rock_organ", "church_organ", "reed_organ",
    "accordion", "harmonica", "tango_accordion", "acoustic_guitar_nylon",
    "acoustic_guitar_steel", "electric_guitar_jazz", "electric_guitar_clean",
    "electric_guitar_muted", "overdriven_guitar", "distortion_guitar",
    "guitar_harmonics", "acoustic_bass", "electric_bass_finger",
    "electric_bass_pick", "fretless_bass", "slap_bass_1", "slap_bass_2",
    "synth_bass_1", "synth_bass_2", "violin", "viola", "cello", "contrabass",
    "tremolo_strings", "pizzicato_strings", "orchestral_harp", "timpani",
    "string_ensemble_1", "string_ensemble_2", "synth_strings_1",
    "synth_strings_2", "choir_aahs", "voice_oohs", "synth_choir",
    "orchestra_hit", "trumpet", "trombone", "tuba", "muted_trumpet",
    "french_horn", "brass_section", "synth_brass_1", "synth_brass_2",
    "soprano_sax", "alto_sax", "tenor_sax", "baritone_sax", "oboe",
    "english_horn", "bassoon", "clarinet", "piccolo", "flute", "recorder",
    "pan_flute", "blown_bottle", "shakuhachi", "whistle", "ocarina",
    "lead_1_square", "lead_2_sawtooth", "lead_3_calliope", "lead_4_chiff",
    "lead_5_charang", "lead_6_voice", "lead_7_fifths", "lead_8_bass_lead",
    "pad_1_new_age", "pad_2_warm", "pad_3_polysynth", "pad_4_choir",
    "pad_5_bowed", "pad_6_metallic", "pad_7_halo", "pad_8_sweep",
    "fx_1_rain", "fx_2_soundtrack", "fx_3_crystal", "fx_4_atmosphere",
    "fx_5_brightness", "fx_6_goblins", "fx_7_echoes", "fx_8_sci_fi", "sitar",
    "banjo", "shamisen", "koto", "kalimba", "bagpipe", "fiddle", "shanai")
assert len(PROGRAM_NAMES) == NUM_PROGRAMS
# MIDI pitches drawn per family (inclusive), in the order of FAMILY_NAMES: a
# range the whole group plays well. Every group but bass plays 60-84; bass
# and pipe never meet.
PITCH_RANGES = (
    (36, 96),  # piano: C2-C7.
    (48, 96),  # chromatic_percussion: celesta to tubular bells, C3-C7.
    (36, 84),  # organ (with accordions and harmonica).
    (40, 84),  # guitar: from the low E string.
    (28, 55),  # bass: E1-G3.
    (36, 84),  # strings: violin to contrabass, harp, timpani.
    (40, 84),  # ensemble: string sections, choirs, orchestra hit.
    (40, 84),  # brass: trombone and tuba low, trumpet to C6.
    (43, 84),  # reed: saxophones, double reeds, clarinet.
    (60, 96),  # pipe: flutes, recorder, whistle, ocarina.
    (48, 96),  # synth_lead.
    (36, 84),  # synth_pad.
    (36, 84),  # synth_effects.
    (48, 84),  # ethnic: sitar, banjo, koto, bagpipe, ...
)
assert len(PITCH_RANGES) == len(FAMILY_NAMES)
VELOCITIES = (25, 50, 75, 100, 127)
# -80 dBFS: quieter raw renders (no zone for the key) are dropped.
SILENCE_PEAK = 1e-4
_HOLD_FRACTION = 0.75  # As NSynth: 3 s held of 4 s.
_DESCRIPTION = (
    "NSynth-like notes of the 112 melodic General MIDI programs rendered "
    "from a SoundFont (default: pretty_midi's TimGM6mb.sf2), labelled with "
    "family (14 GM groups), program, MIDI pitch and velocity (s2l, paper "
    "section 3.1). Silent renders are dropped: the counts are in "
    "metadata['silent_dropped'], programs the file lacks in "
    "metadata['missing_programs'].")


def default_sf2_path() -> str:
  """The path of TimGM6mb.sf2 inside the installed pretty_midi package.

  Raises:
    ImportError: If pretty_midi is not installed, saying how to install it.
  """
  spec = importlib.util.find_spec("pretty_midi")
  if spec is None or not spec.submodule_search_locations:
    raise ImportError(
        "The default SoundFont is TimGM6mb.sf2 from the pretty_midi package, "
        "which is not installed: `pip install pretty_midi==0.2.11.post0`, or "
        "pass the path of another .sf2 file (sf2_path / --sf2).")
  return os.path.join(spec.submodule_search_locations[0], "TimGM6mb.sf2")


def family(program: int) -> int:
  """The General MIDI group (index into FAMILY_NAMES) of a program 0-111."""
  if not 0 <= program < NUM_PROGRAMS:
    raise ValueError(f"program must be in [0, {NUM_PROGRAMS}), got "
                     f"{program}.")
  return int(program) // PROGRAMS_PER_FAMILY


def pitch_range(program: int) -> Tuple[int, int]:
  """(lowest, highest) MIDI pitch drawn for a program, inclusive."""
  return PITCH_RANGES[family(program)]


def note_id(program: int, pitch: int, velocity: int) -> str:
  """NSynth-style id, e.g. "acoustic_grand_piano-060-100"."""
  return f"{PROGRAM_NAMES[program]}-{pitch:03d}-{velocity:03d}"


@functools.lru_cache(maxsize=16)
def _split_notes(seed, split, programs, counts):
  """The (program, pitch, velocity) of every note of a split, in order.

  Each program's combinations of pitch and velocity are shuffled and dealt to
  the splits in proportion to `counts`; a split then takes its programs in
  rounds, each round in a new random order, and a program's next
  combination at each visit.
  """
  fractions = np.array(counts) / sum(counts)
  mine = SPLITS.index(split)
  owned = {}
  for program in programs:
    low, high = pitch_range(program)
    combos = [(pitch, v) for pitch in range(low, high + 1) for v in VELOCITIES]
    # Depends on the seed and program only: all splits agree on the deal.
    order = np.random.default_rng([seed, program]).permutation(len(combos))
    sizes = np.maximum(1, np.round(fractions * len(combos)).astype(int))
    sizes[0] = len(combos) - sizes[1:].sum()
    stops = np.cumsum(sizes)
    owned[program] = [combos[i] for i in order[stops[mine] - sizes[mine]:
                                               stops[mine]]]
  rng = np.random.default_rng([seed, mine])
  notes = []
  for visit in range(-(-counts[mine] // len(programs))):
    for program in rng.permutation(programs)[:counts[mine] - len(notes)]:
      combos = owned[int(program)]
      notes.append((int(program), *combos[visit % len(combos)]))
  return tuple(notes)


def draw_note(seed: int, split: str, index: int, programs: Tuple[int, ...],
              counts: Dict[str, int]) -> dict:
  """The labels of note `index` of a split.

  Args:
    seed: The config seed.
    split: One of SPLITS.
    index: Position of the note in the split, below `counts[split]`.
    programs: The programs to draw from (those the SoundFont has).
    counts: {split: number of notes}, which sets the share of each
      program's (pitch, velocity) combinations that each split owns.

  Returns:
    {"program", "family", "pitch", "velocity"}, ints.
  """
  program, pitch, velocity = _split_notes(
      seed, split, tuple(programs), tuple(counts[s] for s in SPLITS))[index]
  return {"program": program, "family": family(program), "pitch": pitch,
          "velocity": velocity}


@dataclasses.dataclass(eq=False)
class SoundFontNotesConfig(tfds.core.BuilderConfig):
  """Size, seed and SoundFont of a data set.

  Attributes:
    duration_s: Length of every note in seconds; released at 3/4 of it.
    sample_rate: Samples per second.
    num_train: Notes drawn for "train" (silent ones are then dropped).
    num_validation: Notes drawn for "validation".
    num_test: Notes drawn for "test".
    seed: Seed of the notes drawn.
    sf2_path: The .sf2 file; None for pretty_midi's TimGM6mb.sf2. The data
      directory is named after the config, not the file: give a config with
      another file its own name.
  """
  duration_s: float = 4.0
  sample_rate: int = 16000
  num_train: int = 6000
  num_validation: int = 500
  num_test: int = 1000
  seed: int = 0
  sf2_path: Optional[str] = None

  def __post_init__(self):
    if self.duration_s <= 0:
      raise ValueError(f"duration_s must be positive, got {self.duration_s}.")
    highest = max(high for _, high in PITCH_RANGES)
    nyquist_hz = 440.0 * 2.0 ** ((highest - 69) / 12.0) * 2
    if nyquist_hz >= self.sample_rate:
      raise ValueError(f"sample_rate {self.sample_rate} is too low for MIDI "
                       f"pitch {highest}; use more than {nyquist_hz:.0f}.")
    embedded.check_split_counts(self.counts)

  @property
  def counts(self) -> Dict[str, int]:
    return {split: getattr(self, f"num_{split}") for split in SPLITS}


def load_soundfont(config: SoundFontNotesConfig):
  """(SoundFont, programs it has among 0-111, programs it lacks)."""
  soundfont = soundfont_lib.SoundFont.load(config.sf2_path
                                           or default_sf2_path())
  has = tuple(p for p in range(NUM_PROGRAMS) if (0, p) in soundfont.presets)
  if not has:
    raise ValueError(f"{soundfont.path} has no bank 0 preset among programs "
                     f"0-{NUM_PROGRAMS - 1}.")
  return soundfont, has, tuple(sorted(set(range(NUM_PROGRAMS)) - set(has)))


def render_split(
    config: SoundFontNotesConfig, soundfont, programs, split: str
) -> Iterator[Tuple[int, dict, Optional[np.ndarray]]]:
  """Yields (index, note, audio) for each index of a split.

  Args:
    config: The data set's configuration.
    soundfont: The `soundfont.SoundFont` of `config`.
    programs: Programs to draw from (`load_soundfont`'s second value).
    split: One of SPLITS.

  Yields:
    The index, the `draw_note` labels and the audio, [num_samples] int16,
    or None for a silent render.
  """
  for index in range(config.counts[split]):
    note = draw_note(config.seed, split, index, programs, config.counts)
    audio = soundfont_lib.render_note(
        soundfont, 0, note["program"], note["pitch"], note["velocity"],
        config.sample_rate, config.duration_s,
        _HOLD_FRACTION * config.duration_s)
    peak = float(np.max(np.abs(audio)))
    if peak < SILENCE_PEAK:
      yield index, note, None
      continue
    level = 0.9 * (note["velocity"] / 127.0) ** 2 / peak
    yield index, note, embedded.to_pcm16(audio * level)


class SoundFontNotes(tfds.core.GeneratorBasedBuilder):
  """NSynth-like notes rendered locally from a SoundFont, deterministically."""

  name = "s2l_soundfont_notes"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Initial release."}
  BUILDER_CONFIGS = [
      SoundFontNotesConfig(
          name="default",
          description="4 s notes at 16 kHz, as NSynth; 6000/500/1000 drawn."),
      SoundFontNotesConfig(
          name="tiny", description="1 s notes, 24/12/12 drawn, for tests.",
          duration_s=1.0, num_train=24, num_validation=12, num_test=12),
  ]
  DEFAULT_CONFIG_NAME = "default"

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    num_samples = int(round(config.duration_s * config.sample_rate))
    return tfds.core.DatasetInfo(
        builder=self,
        description=_DESCRIPTION,
        features=tfds.features.FeaturesDict({
            "audio": embedded.RawAudio(shape=(num_samples,), dtype=tf.int16,
                                       sample_rate=config.sample_rate),
            "id": tfds.features.Text(),
            "instrument": tfds.features.FeaturesDict({
                "family": tfds.features.ClassLabel(names=FAMILY_NAMES),
                "label": tfds.features.ClassLabel(names=PROGRAM_NAMES),
            }),
            "pitch": tfds.features.ClassLabel(num_classes=128),
            "velocity": tfds.features.Scalar(dtype=tf.int64),
        }),
        supervised_keys=None,
        metadata=tfds.core.MetadataDict(),
    )

  def _split_generators(self, dl_manager):
    del dl_manager  # Nothing to download.
    soundfont, programs, missing = load_soundfont(self.builder_config)
    if missing:
      logging.warning("%s lacks bank 0 programs %s: they are not drawn.",
                      soundfont.path, list(missing))
    self.info.metadata.update(sf2=os.path.basename(soundfont.path),
                              missing_programs=list(missing),
                              silent_dropped={})
    return {split: self._generate_examples(soundfont, programs, split)
            for split in SPLITS}

  def _generate_examples(self, soundfont, programs, split):
    silent = 0
    for index, note, audio in render_split(self.builder_config, soundfont,
                                           programs, split):
      if audio is None:
        silent += 1
        continue
      key = f"{split}_{index:05d}"
      yield key, {
          "audio": audio,
          "id": note_id(note["program"], note["pitch"], note["velocity"]),
          "instrument": {"family": note["family"], "label": note["program"]},
          "pitch": note["pitch"],
          "velocity": note["velocity"],
      }
    self.info.metadata["silent_dropped"][split] = silent
    logging.info("%s: dropped %d silent renders of %d.", split, silent,
                 self.builder_config.counts[split])


MANIFEST_COLUMNS = ("path", "family", "instrument", "program", "pitch",
                    "velocity", "split")


def write_folder(output_dir: str, config: SoundFontNotesConfig,
                 manifest: str = "manifest.csv") -> Dict[str, int]:
  """Renders the notes of `config` as WAV files and a CSV manifest.

  The folder reads back with
  `AudioFolder(output_dir, label_columns=("family", "instrument"),
  regression_columns=("pitch",), split_column="split")`. Files are
  `<split>/<index>-<id>.wav`, 16-bit mono; silent renders are left out.

  Args:
    output_dir: Directory to write (created if needed).
    config: Sizes, seed and SoundFont; the notes are those the builder
      makes of it.
    manifest: Name of the manifest in output_dir, with `MANIFEST_COLUMNS`.

  Returns:
    {split: number of notes written}.
  """
  soundfont, programs, missing = load_soundfont(config)
  if missing:
    logging.warning("%s lacks bank 0 programs %s: they are not drawn.",
                    soundfont.path, list(missing))
  written = {}
  with open(os.path.join(_mkdir(output_dir), manifest), "w", newline="",
            encoding="utf-8") as f:
    writer = csv.writer(f)
    writer.writerow(MANIFEST_COLUMNS)
    for split in SPLITS:
      _mkdir(os.path.join(output_dir, split))
      written[split] = 0
      for index, note, audio in render_split(config, soundfont, programs,
                                             split):
        if audio is None:
          continue
        name = note_id(note["program"], note["pitch"], note["velocity"])
        path = f"{split}/{index:05d}-{name}.wav"
        with wave.open(os.path.join(output_dir, path), "wb") as w:
          w.setnchannels(1)
          w.setsampwidth(2)
          w.setframerate(config.sample_rate)
          w.writeframes(audio.astype("<i2").tobytes())
        writer.writerow([path, FAMILY_NAMES[note["family"]],
                         PROGRAM_NAMES[note["program"]], note["program"],
                         note["pitch"], note["velocity"], split])
        written[split] += 1
  return written


def _mkdir(path):
  os.makedirs(path, exist_ok=True)
  return path


def _define_flags():
  flags.DEFINE_string("sf2", None, ".sf2 file; default: pretty_midi's "
                      "TimGM6mb.sf2.")
  flags.DEFINE_string("output_dir", None, "Folder to write.", required=True)
  flags.DEFINE_integer("num_train", 6000, "Notes drawn for train.")
  flags.DEFINE_integer("num_validation", 500, "Notes drawn for validation.")
  flags.DEFINE_integer("num_test", 1000, "Notes drawn for test.")
  flags.DEFINE_integer("seed", 0, "Seed of the notes drawn.")


def main(argv):
  del argv
  f = flags.FLAGS
  config = SoundFontNotesConfig(
      name="cli", sf2_path=f.sf2, num_train=f.num_train,
      num_validation=f.num_validation, num_test=f.num_test, seed=f.seed)
  written = write_folder(f.output_dir, config)
  print(f"Wrote {written} notes and manifest.csv to {f.output_dir}.")


if __name__ == "__main__":
  _define_flags()
  app.run(main)
