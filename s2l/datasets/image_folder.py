"""A folder of the user's images as a data source (paper section 3.3).

The image experiments pre-train on ImageNet and probe on VOC 2012 from TFDS.
`ImageFolder` gives one's own pictures the same shape: a directory of JPEG,
PNG, GIF or BMP files and a CSV manifest become `tf.data` datasets of
`{"image": [H, W, 3] uint8, "path": string, <labels>}`, so the same front
end (`ImageFrontend`: shorter side resized, square crop), jigsaw patches and
linear probe apply.

    path,scene,labels,split
    img/001.jpg,beach,person;dog,train
    img/002.png,street,car,validation

    images = ImageFolder("/data/photos", label_columns=("scene",),
                         multilabel_column="labels", split_column="split")

Labels are single-class columns (`label_columns`, one task each) and at most
one multi-label task ("labels", as VOC's), from a `;`-separated column or
from one 0/1 column per class (`class_columns`).

Opening a folder decodes every image once and refuses, naming every such
file with its manifest line and why, those that are missing, cannot be
decoded, have no pixels, or are one colour throughout
(`folder.single_colour`); `on_error="skip"` leaves them out instead.
"""

import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from s2l.data import sources
from s2l.datasets import folder

EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp")
_RESERVED = ("image", "path")


def decode_image(contents: tf.Tensor) -> tf.Tensor:
  """A file's bytes (JPEG, PNG, GIF's first frame, BMP) to [H, W, 3] uint8:
  greyscale is repeated over 3 channels and an alpha channel dropped."""
  image = tf.io.decode_image(contents, channels=3, dtype=tf.uint8,
                             expand_animations=False)
  return tf.ensure_shape(image, [None, None, 3])


def _check(path: str) -> Tuple[Optional[str], int]:
  """(why the image cannot be used or None, its size in bytes)."""
  try:
    contents = tf.io.read_file(path)
    image = decode_image(contents)
  except tf.errors.OpError as e:
    message = (getattr(e, "message", None) or str(e)).splitlines()[0]
    return f"cannot decode: {message}", 0
  height, width = int(image.shape[0]), int(image.shape[1])
  if not height or not width:
    return f"no pixels: {height}×{width}", 0
  flat = folder.single_colour(image.numpy())
  if flat:
    return flat, 0
  return None, os.path.getsize(path)


class ImageFolder:
  """Images listed in a CSV manifest, with labels and splits.

  Class ids of a label column are its distinct values in sorted order
  (numerically when all are integers), over every row including skipped
  ones; a multi-label task's classes are the sorted names of its column,
  or its class columns in order.

  Attributes:
    skipped: [(path, reason)] of the rows left out with on_error="skip".
    carved_validation: training images moved to "validation" because the
      folder had none.
    splits: {split name: number of images}.
  """

  modality = "image"
  input_feature = "image"

  # One argument per manifest option a gin file binds (hence more than ten).
  def __init__(self,
               root: str,
               manifest: str = "manifest.csv",
               path_column: str = "path",
               label_columns: Sequence[str] = (),
               multilabel_column: Optional[str] = None,
               class_columns: Sequence[str] = (),
               multilabel_task: str = "labels",
               split_column: Optional[str] = None,
               split_fractions: Tuple[float, float, float] = (0.8, 0.1, 0.1),
               on_error: str = "raise",
               validation_fraction: float = 0.1):
    """Reads the manifest and decodes every image once.

    Args:
      root: directory of the images; manifest paths are relative to it.
      manifest: CSV file with a header row, relative to `root` or absolute.
      path_column: column of each image's path.
      label_columns: single-class columns, one classification task each.
      multilabel_column: a column of `;`-separated class names (an empty
        cell: no label), read as the multi-label task `multilabel_task`.
      class_columns: instead, one 0/1 column per class.
      multilabel_task: the multi-label task's name and output key.
      split_column: column of "train", "validation" or "test"; None splits
        by a hash of each path with `split_fractions`.
      split_fractions: (train, validation, test), summing to 1.
      on_error: "raise" to refuse missing or undecodable images, naming
        them all; "skip" to leave them out (listed in `skipped`).
      validation_fraction: the share of training images that becomes the
        validation split when no image lands in it (pre-training evaluates
        on it); 0 keeps the splits as they are.

    Raises:
      FileNotFoundError: if `root` or the manifest is missing, or every
        image that fails is missing (on_error="raise").
      ValueError: for a bad argument, column or cell, or images that fail.
    """
    folder.check_arguments(root, split_fractions, on_error,
                           validation_fraction, "Image")
    multi = (folder.MultiLabels(multilabel_task, multilabel_column,
                                tuple(class_columns))
             if multilabel_column or class_columns else None)
    if multi and multilabel_task in (*label_columns, *_RESERVED):
      raise ValueError(f"multilabel_task {multilabel_task!r} is also a label "
                       f"column or one of {_RESERVED}; name the multi-label "
                       "task otherwise.")
    self.root = root
    # The constructor's arguments, for the run record (s2l.run_record).
    self.config = dict(
        root=os.path.abspath(root), manifest=manifest, path_column=path_column,
        label_columns=tuple(label_columns),
        multilabel_column=multilabel_column,
        class_columns=tuple(class_columns), multilabel_task=multilabel_task,
        split_column=split_column, split_fractions=tuple(split_fractions),
        on_error=on_error, validation_fraction=validation_fraction)
    self.name = f"image_folder:{os.path.abspath(root)}"
    self._label_columns = tuple(label_columns)
    self._multi = multi
    rows = folder.read_manifest(
        os.path.join(root, manifest),
        [path_column, *label_columns, *(multi.columns if multi else ()),
         *([split_column] if split_column else [])], split_column,
        label_columns, _RESERVED,
        may_be_empty=(multilabel_column,) if multilabel_column else ())
    self._classes = {c: folder.class_values(rows, c) for c in label_columns}
    if multi:
      self._classes[multi.task] = multi.classes(rows)
      multi_ids = multi.ids(rows)

    def labels(i, row):
      ids = {c: self._classes[c].index(row[c].strip()) for c in label_columns}
      return {**ids, multi.task: multi_ids[i]} if multi else ids

    def read(path):
      reason, size = _check(path)
      return reason, {"_size": size}

    self._examples, self.skipped = folder.read_files(
        rows, root, path_column, EXTENSIONS, "JPEG or PNG", labels, read,
        split_column, split_fractions, on_error, manifest)
    self._examples, self.carved_validation = folder.settle_splits(
        self._examples, self.skipped, len(rows), manifest, split_column,
        validation_fraction, root)
    self.splits: Dict[str, int] = {k: len(v) for k, v in self._examples.items()}

  def class_names(self, task: str) -> List[str]:
    """A label column's or the multi-label task's classes, in id order."""
    if task not in self._classes:
      raise KeyError(f"{task!r} is not a label task; they are "
                     f"{list(self._classes)}.")
    return list(self._classes[task])

  @property
  def tasks(self) -> Dict[str, sources.Task]:
    """A classification task per label column, and the multi-label one."""
    tasks = {c: sources.Task(c, "classification", (c,),
                             len(self._classes[c]))
             for c in self._label_columns}
    if self._multi:
      tasks[self._multi.task] = self._multi.as_task(
          len(self._classes[self._multi.task]))
    return tasks

  def load(self, split: str, data_dir: Optional[str] = None
           ) -> tf.data.Dataset:
    """The images of a split, in manifest order (data_dir is unused).

    Returns:
      Unbatched dicts: "image" [H, W, 3] uint8, "path" [] string, each label
      column [] int64, and the multi-label task's class ids [k] int64 padded
      with -1.
    """
    del data_dir
    if split not in self.splits:
      raise ValueError(f"Unknown split {split!r}; this folder has splits "
                       f"{sorted(self.splits)}.")
    examples = self._examples[split]
    columns = {"path": tf.constant([e["path"] for e in examples]),
               "_size": tf.constant([e["_size"] for e in examples], tf.int64)}
    for task in self._classes:
      columns[task] = tf.constant(np.array([e[task] for e in examples]),
                                  tf.int64)

    def read(example):
      size = example.pop("_size")
      contents = tf.io.read_file(example["path"])
      # A file replaced after the folder was checked would fail deep in the
      # decoder without its name.
      changed = tf.debugging.Assert(
          tf.equal(tf.cast(tf.strings.length(contents), tf.int64), size),
          ["Image changed since the folder was checked (its size differs); "
           "open the folder again to re-check it:", example["path"]])
      with tf.control_dependencies([changed]):
        contents = tf.identity(contents)
      return {"image": decode_image(contents), **example}

    return tf.data.Dataset.from_tensor_slices(columns).map(
        read, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
