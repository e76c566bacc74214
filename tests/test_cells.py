"""Tests for s2l/cells.py: probe cells kept as they finish."""

import json

from s2l import cells

FINGERPRINT = {"encoder_step": 10000, "head": "mlp"}


def test_cells_survive_a_reopen_and_are_counted(tmp_path):
  path = str(tmp_path / "probe.json.cells.jsonl")
  store = cells.CellStore(path, FINGERPRINT)
  assert ("pitch", "pretrained", 1000, 0) not in store
  store.put(("pitch", "pretrained", 1000, 0), {"mse": 44.1})
  store.put(["pitch", "pretrained", 1000, 1], {"mse": 40.0})
  again = cells.CellStore(path, dict(FINGERPRINT))
  assert again.get(["pitch", "pretrained", 1000, 0]) == {"mse": 44.1}
  assert again.count([("pitch", "pretrained", 1000, s) for s in range(3)]) == 2
  assert again.discarded == 0


def test_a_line_torn_mid_append_is_dropped_and_the_file_mended(tmp_path):
  path = tmp_path / "cells.jsonl"
  store = cells.CellStore(str(path), FINGERPRINT)
  store.put(("a", "random", 8, 0), {"accuracy": 0.5})
  with open(path, "a") as f:
    f.write('{"key": ["a", "random", 8, 1], "value": {"accu')  # Killed here.
  again = cells.CellStore(str(path), FINGERPRINT)
  assert again.count([("a", "random", 8, 0), ("a", "random", 8, 1)]) == 1
  # The torn line is gone, so the next append starts on a line of its own.
  again.put(("a", "random", 8, 1), {"accuracy": 0.6})
  lines = path.read_text().splitlines()
  assert [json.loads(line) for line in lines][-1]["value"] == {
      "accuracy": 0.6}
  assert cells.CellStore(str(path), FINGERPRINT).count(
      [("a", "random", 8, 0), ("a", "random", 8, 1)]) == 2


def test_cells_of_another_encoder_step_are_never_reused(tmp_path):
  path = str(tmp_path / "cells.jsonl")
  cells.CellStore(path, FINGERPRINT).put(("a", "pretrained", 8, 0), {"x": 1})
  newer = cells.CellStore(path, {**FINGERPRINT, "encoder_step": 20000})
  assert newer.discarded == 1 and ("a", "pretrained", 8, 0) not in newer
  # Nor do they come back when the old setting is asked for again.
  assert ("a", "pretrained", 8, 0) not in cells.CellStore(path, FINGERPRINT)
