"""A folder of the user's audio files as a data source (paper section 3.1).

The audio experiments pre-train and probe on NSynth from TFDS. `AudioFolder`
gives one's own recordings the same shape: a directory of WAV, FLAC or MP3
files and a CSV manifest become `tf.data` datasets of
`{"audio": [num_samples] float32, "path": string, <label columns>}`, mono,
resampled and cut to a fixed length (by default 4 s at 16 kHz, i.e. NSynth's
64000 samples), so the same spectrogram front end and probes apply.

    path,instrument,pitch,split
    a/001.wav,guitar,60,train
    a/002.flac,piano,64.5,validation

    folder = AudioFolder("/data/notes", label_columns=("instrument",),
                         regression_columns=("pitch",), split_column="split")
    train = folder.as_dataset("train")

Decoding uses TF ops only, so it runs in parallel inside `tf.data`:
`tf.audio.decode_wav` for 16-bit PCM WAV, and tensorflow-io's graph-mode
`decode_wav` (32-bit float WAV), `decode_flac` (16-bit) and `decode_mp3` for
the others; `tfio.audio.resample` converts other sample rates.

Opening a folder decodes every file once and refuses, naming every such file
and why, those that hold no note: no samples at all, fewer than one analysis
frame of the spectrogram (`MIN_DURATION_S`), non-finite samples (NaN or inf,
which float WAVs can hold), or digital silence throughout (every sample 0).
Silent files can instead be dropped and counted (`drop_silent=True`), as the
SoundFont builder drops silent renders (`s2l.datasets.soundfont_notes`).
"""

import os
import re
from typing import Dict, List, Optional, Sequence, Tuple

from absl import logging
import numpy as np
import tensorflow as tf
import tensorflow_io as tfio

from s2l.data import frontends
from s2l.data import sources
from s2l.datasets import folder

SPLITS = folder.SPLITS
# Decoders, by `_kind`: the extension picks the first three; a WAV that is not
# 16-bit PCM is probed for 32-bit float samples.
_WAV, _FLAC, _MP3, _WAV_FLOAT = 0, 1, 2, 3
_KINDS = {".wav": _WAV, ".flac": _FLAC, ".mp3": _MP3}
# A file shorter than one window of the default spectrogram (512 samples at
# 16 kHz: 32 ms) does not fill a single STFT frame: zero-padded to the
# folder's length, it is padding with a click at the start, not a note. The
# window, rather than a patch, sets the bar: with frequency bands every patch
# spans the whole clip, and a short note that leaves later time slices empty
# is still a note (NSynth's notes decay early too). The folder does not know
# the front end a run will use, hence the default one.
MIN_DURATION_S = (frontends.AudioFrontend.frame_length /
                  frontends.AudioFrontend.sample_rate)
_SILENT = "digital silence: every sample is 0"
_RESERVED = ("audio", "path")


def decode_audio(contents: tf.Tensor, kind: tf.Tensor) -> tf.Tensor:
  """Decodes a file's bytes into a mono waveform at its own sample rate.

  Args:
    contents: [] string, the bytes of a WAV (16-bit PCM or 32-bit float),
      FLAC (16-bit) or MP3 file.
    kind: [] int32, 0 for 16-bit WAV, 1 for FLAC, 2 for MP3, 3 for 32-bit
      float WAV.

  Returns:
    [num_samples] float32, the mean of the channels: in [-1, 1] but for
    float WAVs, which hold what they hold (NaN included).
  """
  def wav():
    return tf.audio.decode_wav(contents).audio

  def wav_float():
    return tfio.audio.decode_wav(contents, dtype=tf.float32)

  def flac():
    return tf.cast(tfio.audio.decode_flac(contents, dtype=tf.int16),
                   tf.float32) / 32768.0

  def mp3():
    return tfio.audio.decode_mp3(contents)

  channels = tf.switch_case(kind, [wav, flac, mp3, wav_float])
  return tf.reduce_mean(channels, axis=1)


def resample(audio: tf.Tensor, rate_in: tf.Tensor,
             rate_out: int) -> tf.Tensor:
  """[n] float32 at `rate_in` Hz -> [~n * rate_out / rate_in] at `rate_out`."""
  rate_in = tf.cast(rate_in, tf.int64)
  return tf.cond(
      tf.equal(rate_in, rate_out),
      lambda: audio,
      lambda: tfio.audio.resample(audio, rate_in=rate_in, rate_out=rate_out))


def fit_length(audio: tf.Tensor, num_samples: int) -> tf.Tensor:
  """Keeps the first `num_samples` of [n] audio, zero-padding short clips.

  The start is kept, as in NSynth where notes begin at the onset; random crops
  are an augmentation and belong to the training pipeline.
  """
  audio = audio[:num_samples]
  padded = tf.pad(audio, [[0, num_samples - tf.shape(audio)[0]]])
  return tf.ensure_shape(padded, [num_samples])


def _op_message(error: Exception) -> str:
  """The decoder's complaint without TF's function-node decoration."""
  message = getattr(error, "message", None) or str(error)
  message = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", message)
  return re.sub(r"\s*\[Op:[^\]]*\](\s*name:.*)?", "", message).strip()


def _wav_kind(path: str, error: tf.errors.OpError) -> int:
  """`_WAV_FLOAT` for a 32-bit float WAV that `tf.audio.decode_wav` refused
  with `error`; raises ValueError otherwise."""
  try:
    dtype = tfio.audio.AudioIOTensor(path).dtype
  except tf.errors.OpError:
    raise ValueError(_op_message(error)) from error
  if dtype != tf.float32:
    raise ValueError(f"{_op_message(error)} ({dtype.name} samples); re-encode "
                     "as 16-bit PCM or 32-bit float WAV.")
  return _WAV_FLOAT


def _probe(path: str, kind: int) -> Tuple[int, int, np.ndarray]:
  """Decodes a whole file eagerly, as `as_dataset` will.

  Args:
    path: the file.
    kind: its decoder by extension (`_KINDS`).

  Returns:
    (kind, the decoder to use; sample rate in Hz; [num_samples] float32 mono
    samples at that rate).

  Raises:
    ValueError: If the file cannot be decoded by the same ops that
      `as_dataset` uses later.
  """
  try:
    contents = tf.io.read_file(path)
    if kind == _WAV:
      try:
        rate = tf.audio.decode_wav(contents).sample_rate
      except tf.errors.OpError as e:  # Not 16-bit PCM: float, or broken.
        kind = _wav_kind(path, e)
        rate = tfio.audio.AudioIOTensor(path).rate
    else:
      info = tfio.audio.AudioIOTensor(path)
      if kind == _FLAC and info.dtype != tf.int16:
        raise ValueError(f"{info.dtype.name} FLAC samples are not supported; "
                         "re-encode as 16-bit FLAC or WAV.")
      rate = info.rate
    audio = decode_audio(contents, tf.constant(kind)).numpy()
    return kind, int(rate), audio
  except tf.errors.OpError as e:
    raise ValueError(_op_message(e)) from e


def content_problems(audio: np.ndarray, rate: int) -> List[str]:
  """Why a decoded file is not a note; empty if it is one.

  Args:
    audio: [num_samples] float mono samples, as decoded.
    rate: their sample rate in Hz.

  Returns:
    Reasons, among: no samples; non-finite samples; fewer samples than one
    analysis frame (`MIN_DURATION_S`); digital silence (every sample 0,
    `_SILENT`, the one that `drop_silent` drops).
  """
  count = len(audio)
  if not count:
    return ["empty: no samples"]
  problems = []
  bad = int(np.count_nonzero(~np.isfinite(audio)))
  if bad:
    problems.append(f"non-finite samples: {bad} of its {count} samples are "
                    "NaN or infinite")
  if count < MIN_DURATION_S * rate:
    problems.append(
        f"too short: {count} samples ({1000 * count / rate:.1f} ms at {rate} "
        f"Hz), less than one {1000 * MIN_DURATION_S:.0f} ms analysis frame")
  if not bad and not np.any(audio):
    problems.append(_SILENT)
  return problems


def _refusal(refused, total: int, manifest: str) -> Exception:
  """`folder.refusal`, with advice for broken files and for silent ones."""
  advice = []
  if any(reason != _SILENT for _, _, reason, _ in refused):
    advice.append(folder.SKIP_ADVICE)
  if any(reason == _SILENT for _, _, reason, _ in refused):
    advice.append("Silent files hold no note: remove them, or pass "
                  "drop_silent=True (gin: AudioFolder.drop_silent = True) to "
                  "leave them out (counted in `silent_dropped`).")
  return folder.refusal(refused, total, manifest, advice)


class AudioFolder:
  """Audio files listed in a CSV manifest, with labels and splits.

  Every file is checked at construction by decoding it once (minutes for a
  hundred thousand files), so that a bad file stops the run before training
  rather than midway, so that no file that holds no note (see
  `content_problems`) is trained on as one, and so that `as_dataset` can use
  graph-mode decoders that need each file's sample rate and format up front.
  All the files that fail are named in one error.

  Class ids of a label column are its distinct values in sorted order
  (numerically when all of them are integers), taken over every manifest row
  including skipped ones, so the same manifest always gives the same ids.

  Attributes:
    skipped: [(path, reason)] of the rows left out with on_error="skip".
    silent_dropped: paths of the silent files left out with
      drop_silent=True.
    carved_validation: number of training files moved to "validation"
      because the folder had none (see `validation_fraction`).
    splits: {split name: number of examples}: all of `SPLITS` with the hash
      split, the splits the manifest names with a split column.
  """

  # One argument per manifest and audio option a gin file binds (hence more
  # than ten).
  def __init__(self,
               root: str,
               manifest: str = "manifest.csv",
               path_column: str = "path",
               label_columns: Sequence[str] = (),
               regression_columns: Sequence[str] = (),
               split_column: Optional[str] = None,
               split_fractions: Tuple[float, float, float] = (0.8, 0.1, 0.1),
               sample_rate: int = 16000,
               duration_s: float = 4.0,
               on_error: str = "raise",
               validation_fraction: float = 0.1,
               drop_silent: bool = False):
    """Reads the manifest and checks every file.

    Args:
      root: Directory of the audio files; relative paths in the manifest are
        relative to it.
      manifest: CSV file with a header row, relative to `root` or absolute.
      path_column: Column holding each file's path (.wav, .flac or .mp3).
      label_columns: Classification columns (strings or integers), returned
        as int64 class ids.
      regression_columns: Numeric columns, returned as float32.
      split_column: Column of "train", "validation" or "test". If None,
        each file goes to a split by a hash of its manifest path, with
        probabilities `split_fractions`, the same on every machine.
      split_fractions: (train, validation, test) fractions, summing to 1.
      sample_rate: Output sample rate in Hz; other rates are resampled.
      duration_s: Output length in seconds; longer clips keep their start,
        shorter ones are zero-padded.
      on_error: "raise" to stop at files that are missing, cannot be
        decoded, or hold no samples, fewer than one analysis frame or
        non-finite ones, naming them all; "skip" to leave them out, list them
        in `skipped` and log a warning.
      validation_fraction: When no file lands in "validation" (the manifest
        names only train and test, or `split_fractions` gives validation 0),
        this share of the training files, at least one, becomes the
        validation split (pre-training evaluates on it), chosen by a hash of
        their paths, the same on every machine; the log says how many. 0
        keeps the splits as they are.
      drop_silent: Leave out files that are digital silence throughout
        (every sample 0), list them in `silent_dropped` and log them, instead
        of refusing them. Either way none is trained on.

    Raises:
      FileNotFoundError: If `root` or the manifest is missing, or (with
        on_error="raise") every file that fails is missing.
      ValueError: If a column is missing, a value is malformed, or files
        fail: with on_error="raise", those that cannot be decoded or hold no
        usable samples; without drop_silent, silent ones. The message names
        each of them, with its manifest line and reason.
    """
    folder.check_arguments(root, split_fractions, on_error,
                           validation_fraction, "Audio")
    if sample_rate <= 0 or duration_s <= 0:
      raise ValueError(f"sample_rate and duration_s must be positive, got "
                       f"{sample_rate} and {duration_s}.")
    self.root = root
    # The constructor's arguments, for the run record (s2l.run_record).
    self.config = dict(
        root=os.path.abspath(root), manifest=manifest, path_column=path_column,
        label_columns=tuple(label_columns),
        regression_columns=tuple(regression_columns),
        split_column=split_column, split_fractions=tuple(split_fractions),
        sample_rate=sample_rate, duration_s=duration_s, on_error=on_error,
        validation_fraction=validation_fraction, drop_silent=drop_silent)
    # What probe.json and the logs call this source: the folder itself.
    self.name = f"audio_folder:{os.path.abspath(root)}"
    self.sample_rate = sample_rate
    self.num_samples = int(round(duration_s * sample_rate))
    self._label_columns = tuple(label_columns)
    self._regression_columns = tuple(regression_columns)
    rows = folder.read_manifest(
        os.path.join(root, manifest),
        [path_column, *label_columns, *regression_columns,
         *([split_column] if split_column else [])], split_column,
        [*label_columns, *regression_columns], _RESERVED)
    self._classes = {c: folder.class_values(rows, c) for c in label_columns}
    self._class_ids = {c: {v: i for i, v in enumerate(names)}
                       for c, names in self._classes.items()}
    self.skipped: List[Tuple[str, str]] = []
    self.silent_dropped: List[str] = []
    self._examples = {name: [] for name in SPLITS}
    refused = []  # (line, path, reason, exception class)
    for line, row in rows:
      example, reason, error = self._example(line, row, path_column)
      if reason is None:
        split = (row[split_column] if split_column
                 else folder.hash_split(row[path_column], split_fractions))
        self._examples[split].append(example)
      elif reason == _SILENT and drop_silent:
        self.silent_dropped.append(example["path"])
      elif reason != _SILENT and on_error == "skip":
        self.skipped.append((example["path"], reason))
      else:
        refused.append((line, example["path"], reason, error))
    if refused:
      raise _refusal(refused, len(rows), manifest)
    if self.skipped:
      logging.warning(
          "Skipped %d of %d files listed in %s (on_error='skip'), e.g. %s",
          len(self.skipped), len(rows), manifest, self.skipped[:3])
    if self.silent_dropped:
      logging.warning(
          "Dropped %d silent files (every sample 0) of %d listed in %s "
          "(drop_silent=True): %s", len(self.silent_dropped), len(rows),
          manifest, self.silent_dropped)
    self.carved_validation = 0
    if not self._examples["validation"] and validation_fraction > 0:
      self._carve_validation(validation_fraction)
    if split_column:  # Only the splits the manifest names.
      self._examples = {k: v for k, v in self._examples.items() if v}
    self.splits: Dict[str, int] = {k: len(v) for k, v in self._examples.items()}

  def _carve_validation(self, fraction: float) -> None:
    """Moves a hashed `fraction` of the training files to "validation"."""
    train, validation = folder.carve_validation(self._examples["train"],
                                                fraction, self.root)
    self._examples["train"], self._examples["validation"] = train, validation
    self.carved_validation = len(validation)

  def _example(self, line, row, path_column):
    """(probed example, None, None) of a manifest row, or (example with its
    path, why it fails, the exception class to raise) for a file that fails.
    """
    rel_path = row[path_column].strip()
    path = os.path.join(self.root, rel_path)
    kind = _KINDS.get(os.path.splitext(path)[1].lower())
    if kind is None:
      raise ValueError(f"Line {line}: {rel_path} is not one of the supported "
                       f"types {sorted(_KINDS)}; convert it to WAV or FLAC.")
    example = {"path": path, "_kind": kind}
    for column in self._label_columns:
      example[column] = self._class_ids[column][row[column].strip()]
    for column in self._regression_columns:
      try:
        example[column] = float(row[column])
      except ValueError:
        raise ValueError(f"Line {line}: column {column!r} must be a number, "
                         f"got {row[column]!r}.") from None
    if not os.path.isfile(path):
      return example, "file not found", FileNotFoundError
    try:
      example["_kind"], example["_rate"], audio = _probe(path, kind)
    except UnicodeDecodeError:
      # TF's decoder sometimes quotes the file's bytes in its message, which
      # then cannot be read as text: say what the file is not instead.
      return example, ("cannot decode: not a readable WAVE, FLAC or MP3 "
                       "file"), ValueError
    except ValueError as e:
      return example, f"cannot decode: {e}", ValueError
    example["_size"] = os.path.getsize(path)
    problems = content_problems(audio, example["_rate"])
    if problems:
      return example, "; ".join(problems), ValueError
    return example, None, None

  def num_classes(self, column: str) -> int:
    """Number of classes of a label column."""
    return len(self.class_names(column))

  def class_names(self, column: str) -> List[str]:
    """Values of a label column in class id order."""
    if column not in self._classes:
      raise KeyError(f"{column!r} is not a label column; label columns are "
                     f"{list(self._classes)}.")
    return list(self._classes[column])

  def as_dataset(self, split: str) -> tf.data.Dataset:
    """The examples of a split, in manifest order.

    Args:
      split: One of `self.splits`.

    Returns:
      Unbatched dicts: "audio" [num_samples] float32, "path" [] string, each
      label column [] int64 and each regression column [] float32.
    """
    if split not in self.splits:
      raise ValueError(f"Unknown split {split!r}; this folder has splits "
                       f"{sorted(self.splits)}.")
    examples = self._examples[split]
    columns = {
        "path": tf.constant([e["path"] for e in examples], tf.string),
        "_kind": tf.constant([e["_kind"] for e in examples], tf.int32),
        "_rate": tf.constant([e["_rate"] for e in examples], tf.int64),
        "_size": tf.constant([e["_size"] for e in examples], tf.int64),
    }
    for column in self._label_columns:
      columns[column] = tf.constant([e[column] for e in examples], tf.int64)
    for column in self._regression_columns:
      columns[column] = tf.constant([e[column] for e in examples], tf.float32)

    def load(example):
      kind, rate = example.pop("_kind"), example.pop("_rate")
      size = example.pop("_size")
      contents = tf.io.read_file(example["path"])
      # A file replaced after the folder was checked would fail deep in the
      # decoder without its name.
      changed = tf.debugging.Assert(
          tf.equal(tf.cast(tf.strings.length(contents), tf.int64), size),
          ["Audio file changed since the folder was checked (its size "
           "differs); open the folder again to re-check it:", example["path"]])
      with tf.control_dependencies([changed]):
        contents = tf.identity(contents)
      audio = decode_audio(contents, kind)
      audio = resample(audio, rate, self.sample_rate)
      return {"audio": fit_length(audio, self.num_samples), **example}

    return tf.data.Dataset.from_tensor_slices(columns).map(
        load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

  # The `sources.Source` interface, so the pretext and downstream pipelines
  # take a folder wherever they take a registered source (`name` is set per
  # folder in __init__).
  modality = "audio"
  input_feature = "audio"

  @property
  def tasks(self) -> Dict[str, sources.Task]:
    """A downstream task per label column (classification or regression)."""
    tasks = {column: sources.Task(column, "classification", (column,),
                                  self.num_classes(column))
             for column in self._label_columns}
    tasks.update({column: sources.Task(column, "regression", (column,))
                  for column in self._regression_columns})
    return tasks

  def load(self, split: str, data_dir: Optional[str] = None
           ) -> tf.data.Dataset:
    """`as_dataset(split)`; data_dir is unused (the folder is the data)."""
    del data_dir
    return self.as_dataset(split)
