"""Finished probe cells, kept on disk as each one finishes.

`s2l.evaluate` probes a grid of tasks × baselines × numbers of labels ×
seeds that can take longer than the pre-training. A `CellStore` appends each
finished cell (one seed's scores) to a JSON-lines file beside the results, so
that an interrupted evaluation (SIGTERM, Ctrl-C, a lost machine) loses at most
the cell in progress, and a rerun reuses what is there.

The file's first line is the fingerprint of everything a cell's scores depend
on (the encoder's step, the probe settings, the data); a store opened with
another fingerprint discards the file's cells, so that cells of an older
encoder are never mixed with a newer one's:

    {"fingerprint": {...}}
    {"key": ["pitch", "pretrained", 1000, 0], "value": {"mse": 44.1}}
    ...

A line torn by a kill mid-append is dropped when the file is next opened.
"""

import json
import os
from typing import Any, Dict, Hashable, Optional, Sequence

from absl import logging

from s2l import atomic


def _key(key: Sequence) -> tuple:
  return tuple(key)


class CellStore:
  """Finished cells of one evaluation, keyed by lists of str/int.

  Args:
    path: the JSON-lines file (created with its folder if missing).
    fingerprint: JSON-serialisable; cells stored under another are dropped.
  """

  def __init__(self, path: str, fingerprint: Dict[str, Any]):
    self.path = path
    self.fingerprint = json.loads(json.dumps(fingerprint))
    self.cells: Dict[tuple, Any] = {}
    self.discarded = 0
    lines = []
    if os.path.exists(path):
      with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    header, records = (lines[0], lines[1:]) if lines else ("", [])
    try:
      same = json.loads(header) == {"fingerprint": self.fingerprint}
    except json.JSONDecodeError:
      same = False
    for line in records:
      try:
        record = json.loads(line)
        key, value = _key(record["key"]), record["value"]
      except (json.JSONDecodeError, KeyError, TypeError):
        continue  # Empty, or torn by a kill mid-append.
      if same:
        self.cells[key] = value
      else:
        self.discarded += 1
    if self.discarded:
      logging.warning("%s: %d probe cells were made with another encoder or "
                      "other probe settings; probing them again.", path,
                      self.discarded)
    self._rewrite()

  def _rewrite(self) -> None:
    """The header and the valid cells, replacing the file in one rename."""
    os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
    atomic.write_text(self.path, "".join(
        json.dumps(line) + "\n" for line in
        [{"fingerprint": self.fingerprint}] +
        [{"key": list(k), "value": v} for k, v in self.cells.items()]))

  def __contains__(self, key: Sequence[Hashable]) -> bool:
    return _key(key) in self.cells

  def get(self, key: Sequence[Hashable]) -> Optional[Any]:
    return self.cells.get(_key(key))

  def put(self, key: Sequence[Hashable], value: Any) -> Any:
    """Keeps a finished cell: appended and flushed to disk; returns it."""
    self.cells[_key(key)] = value
    with open(self.path, "a", encoding="utf-8") as f:
      f.write(json.dumps({"key": list(key), "value": value}) + "\n")
      f.flush()
      os.fsync(f.fileno())
    return value

  def get_or_put(self, key: Sequence[Hashable], compute) -> Any:
    """The finished cell `key`, or `compute()` kept as it (`put`)."""
    if _key(key) in self.cells:
      return self.cells[_key(key)]
    return self.put(key, compute())

  def count(self, keys) -> int:
    """How many of `keys` are finished."""
    return sum(_key(k) in self.cells for k in keys)
