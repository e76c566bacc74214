"""A folder of the user's files listed in a CSV manifest: what the audio,
image and video folders share.

    path,family,labels,split
    a/001.wav,guitar,,train
    b/cat.jpg,,cat;sofa,validation

A manifest names each file (relative to the folder) and its labels; the
folder classes (`AudioFolder`, `ImageFolder`, `VideoFolder`) read the files.
Here are the parts that do not depend on what a file holds:

- `write_manifest`: writes one, atomically (scripts that make a folder);
- `read_manifest`: the rows of a UTF-8 CSV, with every named column present,
  no empty cell, and split names that exist;
- `class_values`: the class names of a label column, in class id order;
- `hash_split` and `carve_validation`: splits without a split column, the
  same on every machine;
- `refusal`: the one error that names every bad file with its manifest line;
- `MultiLabels`: several labels per file, as a `;`-separated column or one
  0/1 column per class, read as a multi-label task (`sources.Task`).
"""

import csv
import dataclasses
import hashlib
import io
import os
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from absl import logging
import numpy as np

from s2l import atomic
from s2l.data import sources

SPLITS = ("train", "validation", "test")
ON_ERROR = ("raise", "skip")
# An image or clip whose every channel spans at most this many of 255 levels
# is one colour throughout (lossy codecs leave a level or two of noise): it
# holds nothing to put in order, as a silent note holds no note.
FLAT_LEVELS = 2


def single_colour(pixels: np.ndarray) -> Optional[str]:
  """Why [..., 3] uint8 pixels (an image, a clip) cannot be used because
  they are one colour throughout, or None."""
  flat = pixels.reshape(-1, pixels.shape[-1])
  if np.ptp(flat, axis=0).max() <= FLAT_LEVELS:
    colour = ", ".join(str(int(v)) for v in np.median(flat, axis=0))
    return f"a single colour throughout (RGB {colour})"
  return None


def check_arguments(root: str, split_fractions: Sequence[float],
                    on_error: str, validation_fraction: float,
                    what: str) -> None:
  """ValueError (FileNotFoundError for a missing `root`) for arguments no
  folder can be opened with; `what` names the files ("Audio", "Image")."""
  if on_error not in ON_ERROR:
    raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}.")
  if len(split_fractions) != 3 or min(split_fractions) < 0 or not np.isclose(
      sum(split_fractions), 1.0):
    raise ValueError("split_fractions must be 3 non-negative (train, "
                     f"validation, test) fractions summing to 1, got "
                     f"{split_fractions}.")
  if not 0 <= validation_fraction < 1:
    raise ValueError(f"validation_fraction must be in [0, 1), got "
                     f"{validation_fraction}.")
  if not os.path.isdir(root):
    raise FileNotFoundError(f"{what} root directory {root} does not exist; "
                            "pass the folder that holds the files.")


def write_manifest(path: str, columns: Sequence[str],
                   rows: Sequence[Dict[str, str]]) -> str:
  """Writes a UTF-8 CSV manifest with a header row of `columns`, whole or
  not at all (`s2l.atomic`); returns `path`. A script that makes a folder
  writes it last, so that a folder with a manifest is a complete one."""
  text = io.StringIO()
  writer = csv.DictWriter(text, fieldnames=list(columns), lineterminator="\n")
  writer.writeheader()
  writer.writerows(rows)
  return atomic.write_text(path, text.getvalue())


def read_manifest(path: str, wanted: Sequence[str],
                  split_column: Optional[str], outputs: Sequence[str],
                  reserved: Sequence[str],
                  may_be_empty: Sequence[str] = ()) -> List[Tuple[int, Dict]]:
  """The rows of a manifest, after checking its columns and splits.

  Args:
    path: the CSV file, with a header row.
    wanted: the columns the folder reads (path, labels, split).
    split_column: the split column, if any, whose values must be `SPLITS`.
    outputs: the label columns that become output keys of the same name.
    reserved: the folder's other output keys, which none of `outputs` may
      be called.
    may_be_empty: columns whose cells may be empty (a file with no label
      of a multi-label column).

  Returns:
    [(line number in the file, {column: cell})], the header being line 1.

  Raises:
    FileNotFoundError: if the manifest is missing.
    ValueError: if it is not UTF-8, lacks a column, lists no file, has an
      empty cell or an unknown split; the message says which and where.
  """
  if not os.path.isfile(path):
    raise FileNotFoundError(f"Manifest {path} does not exist; pass "
                            "manifest=<CSV file with a header row>.")
  try:
    with open(path, newline="", encoding="utf-8-sig") as f:
      text = f.read()
  except UnicodeDecodeError as e:
    raise ValueError(
        f"Manifest {path} is not UTF-8 text ({e}); re-save it as UTF-8, "
        f"for example `iconv -f latin1 -t utf-8 {path}`.") from None
  reader = csv.DictReader(io.StringIO(text, newline=""))
  found = reader.fieldnames or []
  missing = [c for c in wanted if c not in found]
  if missing:
    raise ValueError(f"Manifest {path} has no column {missing}; its "
                     f"columns are {found}.")
  clash = [c for c in outputs if c in reserved]
  if clash:
    raise ValueError(f"Label columns {clash} clash with the output keys "
                     f"{list(reserved)}; rename them in the manifest.")
  rows = list(enumerate(reader, start=2))
  if not rows:
    raise ValueError(f"Manifest {path} lists no files (a header and no "
                     "rows); add a line per file.")
  empty = [(line, c) for line, row in rows for c in wanted
           if c not in may_be_empty and not (row[c] or "").strip()]
  if empty:
    raise ValueError(f"Manifest {path} has empty cells (line, column): "
                     f"{empty[:5]}; fill them or drop those rows.")
  if split_column:
    bad = sorted({row[split_column] for _, row in rows} - set(SPLITS))
    if bad:
      raise ValueError(f"Column {split_column!r} of {path} has values {bad}; "
                       f"valid splits are {SPLITS}.")
  return rows


def class_values(rows: Sequence[Tuple[int, Dict]], column: str) -> List[str]:
  """Sorted distinct values of a classification column (numerically when
  all are integers), over every row, so a manifest always gives the same
  class ids."""
  values = {row[column].strip() for _, row in rows}
  try:
    return sorted(values, key=int)
  except ValueError:
    return sorted(values)


def hash_split(path: str, fractions: Sequence[float]) -> str:
  """The split of `path`, from a hash of it that is stable across machines."""
  digest = hashlib.sha256(path.encode("utf-8")).digest()
  position = int.from_bytes(digest[:8], "big") / 2.0**64
  for name, bound in zip(SPLITS, np.cumsum(fractions)):
    if position < bound:
      return name
  # Rounding left the cumulative sum just under 1.
  return [name for name, f in zip(SPLITS, fractions) if f > 0][-1]


def carve_validation(train: List[Dict], fraction: float,
                     root: str) -> Tuple[List[Dict], List[Dict]]:
  """(train, validation): a hashed `fraction` of the training examples
  (each a dict with its "path"), at least one, moved to validation, the
  same on every machine; unchanged with fewer than two."""
  if len(train) < 2:
    return train, []
  count = max(1, int(round(fraction * len(train))))
  # Salted, so that the choice does not follow the hash split's.
  order = sorted(range(len(train)), key=lambda i: hashlib.sha256(
      ("validation:" + train[i]["path"]).encode("utf-8")).digest())
  chosen = set(order[:count])
  logging.info(
      "%s has no validation files: %d of its %d training files (%.0f%%, "
      "chosen by a hash of their paths) are the validation split; name one "
      "in the manifest's split column to choose it yourself.", root,
      count, len(train), 100 * fraction)
  return ([e for i, e in enumerate(train) if i not in chosen],
          [e for i, e in enumerate(train) if i in chosen])


def refusal(refused: Sequence[Tuple[int, str, str, type]], total: int,
            manifest: str, advice: Sequence[str]) -> Exception:
  """The error that names every refused file, its line and its reason.

  Args:
    refused: [(manifest line, path, reason, exception class)].
    total: number of files the manifest lists.
    manifest: its name.
    advice: what to do about them, sentence by sentence.

  Returns:
    FileNotFoundError if every file is missing, else ValueError.
  """
  lines = [f"  Line {line}: {path}: {reason}"
           for line, path, reason, _ in refused]
  error = (FileNotFoundError
           if all(e is FileNotFoundError for *_, e in refused) else ValueError)
  return error(f"{len(refused)} of the {total} files listed in {manifest} "
               "cannot be used:\n" + "\n".join(lines) + "\n" +
               " ".join(advice))


def read_files(rows: Sequence[Tuple[int, Dict]], root: str, path_column: str,
               extensions: Sequence[str], convert_to: str,
               labels: Callable[[int, Dict], Dict],
               read: Callable[[str], Tuple[Optional[str], Dict]],
               split_column: Optional[str], split_fractions: Sequence[float],
               on_error: str, manifest: str
               ) -> Tuple[Dict[str, List[Dict]], List[Tuple[str, str]]]:
  """Reads every file a manifest lists into its split.

  Args:
    rows: `read_manifest`'s rows.
    root, path_column: where the files are, and the column naming each.
    extensions: the file types accepted; another is an error at once,
      suggesting `convert_to`.
    labels: (row index, row) -> the example's label fields.
    read: path -> (why the file cannot be used or None, the fields it
      adds to the example).
    split_column, split_fractions: the split of each file (see
      `hash_split`).
    on_error: "raise" to refuse every failing file in one error
      (`refusal`), "skip" to leave them out.
    manifest: the manifest's name, for the error.

  Returns:
    ({split: [example dicts with "path"]}, [(path, reason)] skipped).
  """
  examples = {name: [] for name in SPLITS}
  skipped, refused = [], []
  for i, (line, row) in enumerate(rows):
    rel_path = row[path_column].strip()
    path = os.path.join(root, rel_path)
    if os.path.splitext(path)[1].lower() not in extensions:
      raise ValueError(f"Line {line}: {rel_path} is not one of the supported "
                       f"types {tuple(extensions)}; convert it to "
                       f"{convert_to}.")
    example = {"path": path, **labels(i, row)}
    if os.path.isfile(path):
      (reason, fields), error = read(path), ValueError
      example.update(fields)
    else:
      reason, error = "file not found", FileNotFoundError
    if reason is None:
      split = (row[split_column] if split_column
               else hash_split(rel_path, split_fractions))
      examples[split].append(example)
    elif on_error == "skip":
      skipped.append((path, reason))
    else:
      refused.append((line, path, reason, error))
  if refused:
    raise refusal(refused, len(rows), manifest, [SKIP_ADVICE])
  return examples, skipped


def settle_splits(examples: Dict[str, List[Dict]], skipped: Sequence,
                  total: int, manifest: str, split_column: Optional[str],
                  validation_fraction: float, root: str
                  ) -> Tuple[Dict[str, List[Dict]], int]:
  """The splits a folder ends with, once its files are read.

  Logs the files left out (`skipped`, of `total` in `manifest`); carves a
  validation split from training when none was given (`carve_validation`);
  keeps only the splits a split column names.

  Returns:
    ({split: examples}, how many training examples became validation).
  """
  if skipped:
    logging.warning("Skipped %d of %d files listed in %s (on_error='skip'), "
                    "e.g. %s", len(skipped), total, manifest, skipped[:3])
  carved = 0
  if not examples["validation"] and validation_fraction > 0:
    examples["train"], examples["validation"] = carve_validation(
        examples["train"], validation_fraction, root)
    carved = len(examples["validation"])
  if split_column:  # Only the splits the manifest names.
    examples = {k: v for k, v in examples.items() if v}
  return examples, carved


SKIP_ADVICE = ("Fix or remove the broken ones, or pass on_error='skip' to "
               "leave such files out (listed in `skipped`).")


@dataclasses.dataclass(frozen=True)
class MultiLabels:
  """Several labels per file, read as one multi-label task.

  Either `column`, a column of class names separated by `separator` (an
  empty cell: no label), or `class_columns`, one column per class holding
  0 or 1. The classes are the sorted names found in `column`, or the
  `class_columns` in their order.

  Attributes:
    task: the task's name, and the output key of each file's labels.
    column: the `separator`-separated column, or None.
    class_columns: the 0/1 columns, or ().
    separator: between class names in `column`.
  """
  task: str
  column: Optional[str] = None
  class_columns: Tuple[str, ...] = ()
  separator: str = ";"

  def __post_init__(self):
    if (self.column is None) == (not self.class_columns):
      raise ValueError("multi-label classes come from one place: pass a "
                       "multilabel_column ('cat;dog') or class_columns (one "
                       "0/1 column per class), not both or neither.")

  @property
  def columns(self) -> Tuple[str, ...]:
    return (self.column,) if self.column else tuple(self.class_columns)

  def names(self, row: Dict, line: int) -> List[str]:
    """The class names one manifest row holds."""
    if self.column:
      return [n.strip() for n in row[self.column].split(self.separator)
              if n.strip()]
    names = []
    for column in self.class_columns:
      value = row[column].strip()
      if value not in ("0", "1"):
        raise ValueError(f"Line {line}: class column {column!r} must be 0 "
                         f"or 1, got {value!r}.")
      if value == "1":
        names.append(column)
    return names

  def classes(self, rows: Sequence[Tuple[int, Dict]]) -> List[str]:
    if self.class_columns:
      return list(self.class_columns)
    return sorted({n for line, row in rows for n in self.names(row, line)})

  def ids(self, rows: Sequence[Tuple[int, Dict]]) -> List[np.ndarray]:
    """Each row's class ids, padded with -1 to one width (`sources.Task`
    reads -1 as no class)."""
    index = {name: i for i, name in enumerate(self.classes(rows))}
    lists = [sorted({index[n] for n in self.names(row, line)})
             for line, row in rows]
    width = max(1, max(len(ids) for ids in lists))
    return [np.array(ids + [-1] * (width - len(ids)), np.int64)
            for ids in lists]

  def as_task(self, num_classes: int) -> sources.Task:
    return sources.Task(self.task, "multilabel", (self.task,), num_classes)
