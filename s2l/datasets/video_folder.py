"""A folder of the user's videos as a data source (paper section 3.2).

The video experiments pre-train and probe on something-something v2.
`VideoFolder` gives one's own clips the same shape: a directory of videos
FFmpeg reads (MP4, WebM, AVI, MOV, MKV) and a CSV manifest become
`tf.data` datasets of `{"video": [T, S, S, 3] uint8, "path": string,
<labels>}`, so the same front end (`VideoFrontend`), frame shuffling and
probes apply.

    path,action,split
    clips/001.mp4,pouring,train
    clips/002.webm,dropping,validation

    clips = VideoFolder("/data/clips", label_columns=("action",),
                        split_column="split", num_frames=20, size=64)

Each video is decoded once, when the folder is opened, with the pinned PyAV
(FFmpeg inside its wheel): `num_frames` frames spread uniformly over the
clip (`frontends.frame_indices`), each resized to `size` × `size`. They are
kept in memory (T·S²·3 bytes a clip: 240 KiB at 20 frames of 64 × 64), which
suits folders of thousands of clips; a larger collection is better made a
TFDS data set (as `s2l.datasets.something_something`). Opening refuses,
naming every such file with its manifest line and why, clips that are
missing, cannot be decoded, have no video stream, hold fewer frames than
`num_frames` (their shuffled frames would repeat, and any order of equal
frames is right), or are one colour throughout; `on_error="skip"` leaves
them out instead.
"""

import os
from typing import Dict, List, Optional, Sequence, Tuple

from absl import logging
import numpy as np
import tensorflow as tf

from s2l.data import sources
from s2l.datasets import folder
from s2l.datasets import something_something

EXTENSIONS = (".mp4", ".webm", ".avi", ".mov", ".mkv", ".m4v")
_RESERVED = ("video", "path")


def uniform_indices(length: int, num_frames: int) -> np.ndarray:
  """`num_frames` indices spread uniformly over `length` frames, first and
  last kept (as `frontends.frame_indices`)."""
  if num_frames == 1:
    return np.zeros([1], np.int64)
  return np.round(np.linspace(0, length - 1, num_frames)).astype(np.int64)


def read_clip(path: str, num_frames: int, size: int) -> np.ndarray:
  """[num_frames, size, size, 3] uint8 frames of a video file.

  Raises:
    ValueError: the file cannot be decoded, has no video stream, holds
      fewer than `num_frames` frames, or its kept frames are one colour
      throughout (`folder.single_colour`); the message says which.
  """
  frames = something_something.decode_video(path, size, size)
  if len(frames) < num_frames:
    raise ValueError(f"too short: {len(frames)} frames, fewer than the "
                     f"{num_frames} that are shuffled (num_frames)")
  frames = frames[uniform_indices(len(frames), num_frames)]
  flat = folder.single_colour(frames)
  if flat:
    raise ValueError(flat)
  return frames


class VideoFolder:
  """Videos listed in a CSV manifest, with labels and splits.

  Class ids of a label column are its distinct values in sorted order
  (numerically when all are integers), over every row including skipped
  ones.

  Attributes:
    skipped: [(path, reason)] of the rows left out with on_error="skip".
    carved_validation: training clips moved to "validation" because the
      folder had none.
    splits: {split name: number of clips}.
  """

  modality = "video"
  input_feature = "video"

  # One argument per manifest and decoding option a gin file binds (hence
  # more than ten).
  def __init__(self,
               root: str,
               manifest: str = "manifest.csv",
               path_column: str = "path",
               label_columns: Sequence[str] = (),
               split_column: Optional[str] = None,
               split_fractions: Tuple[float, float, float] = (0.8, 0.1, 0.1),
               num_frames: int = 20,
               size: int = 64,
               on_error: str = "raise",
               validation_fraction: float = 0.1):
    """Reads the manifest and decodes every clip once.

    Args:
      root: directory of the videos; manifest paths are relative to it.
      manifest: CSV file with a header row, relative to `root` or absolute.
      path_column: column of each video's path.
      label_columns: classification columns, one task each.
      split_column: column of "train", "validation" or "test"; None splits
        by a hash of each path with `split_fractions`.
      split_fractions: (train, validation, test), summing to 1.
      num_frames: frames kept per clip, spread uniformly (paper: 20); at
        least the front end's `VideoFrontend.num_frames`.
      size: side of each kept frame, in pixels.
      on_error: "raise" to refuse missing, undecodable or short clips,
        naming them all; "skip" to leave them out (listed in `skipped`).
      validation_fraction: the share of training clips that becomes the
        validation split when no clip lands in it; 0 keeps the splits.

    Raises:
      FileNotFoundError: if `root` or the manifest is missing, or every
        clip that fails is missing (on_error="raise").
      ValueError: for a bad argument, column or cell, or clips that fail.
    """
    folder.check_arguments(root, split_fractions, on_error,
                           validation_fraction, "Video")
    if num_frames <= 0 or size <= 0:
      raise ValueError(f"num_frames and size must be positive, got "
                       f"{num_frames} and {size}.")
    self.root = root
    # The constructor's arguments, for the run record (s2l.run_record).
    self.config = dict(
        root=os.path.abspath(root), manifest=manifest, path_column=path_column,
        label_columns=tuple(label_columns), split_column=split_column,
        split_fractions=tuple(split_fractions), num_frames=num_frames,
        size=size, on_error=on_error,
        validation_fraction=validation_fraction)
    self.name = f"video_folder:{os.path.abspath(root)}"
    self._label_columns = tuple(label_columns)
    self.frame_shape = (num_frames, size, size, 3)
    rows = folder.read_manifest(
        os.path.join(root, manifest),
        [path_column, *label_columns,
         *([split_column] if split_column else [])], split_column,
        label_columns, _RESERVED)
    self._classes = {c: folder.class_values(rows, c) for c in label_columns}
    decoded = [0]

    def labels(i, row):
      del i
      return {c: self._classes[c].index(row[c].strip()) for c in label_columns}

    def read(path):
      decoded[0] += 1
      if decoded[0] % 100 == 0:
        logging.info("Decoded %d of %d clips of %s.", decoded[0], len(rows),
                     root)
      try:
        return None, {"video": read_clip(path, num_frames, size)}
      except ValueError as e:
        return str(e).replace(path, "the file"), {}

    self._examples, self.skipped = folder.read_files(
        rows, root, path_column, EXTENSIONS, "MP4 or WebM", labels, read,
        split_column, split_fractions, on_error, manifest)
    self._examples, self.carved_validation = folder.settle_splits(
        self._examples, self.skipped, len(rows), manifest, split_column,
        validation_fraction, root)
    self.splits: Dict[str, int] = {k: len(v) for k, v in self._examples.items()}

  def class_names(self, column: str) -> List[str]:
    """A label column's classes, in id order."""
    if column not in self._classes:
      raise KeyError(f"{column!r} is not a label column; they are "
                     f"{list(self._classes)}.")
    return list(self._classes[column])

  @property
  def tasks(self) -> Dict[str, sources.Task]:
    """A classification task per label column."""
    return {c: sources.Task(c, "classification", (c,), len(self._classes[c]))
            for c in self._label_columns}

  def load(self, split: str, data_dir: Optional[str] = None
           ) -> tf.data.Dataset:
    """The clips of a split, in manifest order (data_dir is unused).

    Returns:
      Unbatched dicts: "video" [T, S, S, 3] uint8, "path" [] string and each
      label column [] int64.
    """
    del data_dir
    if split not in self.splits:
      raise ValueError(f"Unknown split {split!r}; this folder has splits "
                       f"{sorted(self.splits)}.")
    examples = self._examples[split]
    columns = {"video": np.stack([e["video"] for e in examples]),
               "path": np.array([e["path"] for e in examples])}
    for column in self._label_columns:
      columns[column] = np.array([e[column] for e in examples], np.int64)
    return tf.data.Dataset.from_tensor_slices(columns)
