"""Tests for s2l/datasets/folder.py: what the audio, image and video folders
share (manifests, splits, refusals, multi-label columns)."""

import os

import numpy as np
import pytest

from s2l.datasets import folder


def _manifest(tmp_path, text):
  path = tmp_path / "manifest.csv"
  path.write_text(text)
  return str(path)


def test_a_written_manifest_reads_back_and_replaces_the_old_one(tmp_path):
  path = str(tmp_path / "manifest.csv")
  _manifest(tmp_path, "path,label\nold.png,x\n")
  rows = [{"path": "img/a, b.png", "label": "cat", "tags": "x;y"},
          {"path": "img/é.png", "label": "dog", "tags": ""}]
  assert folder.write_manifest(path, ("path", "label", "tags"), rows) == path
  read = folder.read_manifest(path, ["path", "label", "tags"], None, [], [],
                              may_be_empty=["tags"])
  assert read == [(2, rows[0]), (3, rows[1])]
  # Written whole through a temporary file, which is gone.
  assert sorted(os.listdir(tmp_path)) == ["manifest.csv"]
  with pytest.raises(ValueError, match="dict contains fields not in"):
    folder.write_manifest(path, ("path",), rows)
  assert folder.read_manifest(path, ["path"], None, [], [])[0][1] == rows[0]


def test_the_manifest_is_checked_column_by_column(tmp_path):
  path = _manifest(tmp_path, "path,labels,split\na.png,cat;dog,train\n"
                   "b.png,,test\n")
  rows = folder.read_manifest(path, ["path", "labels", "split"], "split",
                              [], ["image"], may_be_empty=["labels"])
  assert [line for line, _ in rows] == [2, 3]
  with pytest.raises(ValueError, match=r"empty cells \(line, column\): "
                     r"\[\(3, 'labels'\)\]"):
    folder.read_manifest(path, ["path", "labels"], None, [], [])
  with pytest.raises(ValueError, match="has no column \\['shape'\\]"):
    folder.read_manifest(path, ["path", "shape"], None, [], [])
  with pytest.raises(ValueError, match="clash with the output keys"):
    folder.read_manifest(path, ["path", "labels"], None, ["labels"],
                         ["labels"], may_be_empty=["labels"])
  bad = _manifest(tmp_path, "path,split\na.png,training\n")
  with pytest.raises(ValueError, match="has values \\['training'\\]"):
    folder.read_manifest(bad, ["path", "split"], "split", [], [])
  with pytest.raises(FileNotFoundError, match="does not exist"):
    folder.read_manifest(str(tmp_path / "none.csv"), ["path"], None, [], [])


def test_splits_by_hash_and_the_carved_validation_are_stable():
  paths = [f"{i}.png" for i in range(200)]
  splits = [folder.hash_split(p, (0.5, 0.25, 0.25)) for p in paths]
  assert splits == [folder.hash_split(p, (0.5, 0.25, 0.25)) for p in paths]
  counts = {s: splits.count(s) for s in folder.SPLITS}
  assert 70 < counts["train"] < 130 and counts["validation"] > 25
  train = [{"path": p} for p in paths[:40]]
  kept, validation = folder.carve_validation(train, 0.1, "root")
  assert len(validation) == 4 and len(kept) == 36
  assert folder.carve_validation(train, 0.1, "root") == (kept, validation)
  assert folder.carve_validation(train[:1], 0.1, "root") == (train[:1], [])


def test_multi_labels_from_names_or_class_columns():
  rows = [(2, {"labels": "dog;cat", "cat": "1", "dog": "1"}),
          (3, {"labels": "", "cat": "0", "dog": "0"}),
          (4, {"labels": "cat", "cat": "1", "dog": "0"})]
  names = folder.MultiLabels("labels", column="labels")
  assert names.classes(rows) == ["cat", "dog"]
  ids = names.ids(rows)
  np.testing.assert_array_equal(np.stack(ids), [[0, 1], [-1, -1], [0, -1]])
  columns = folder.MultiLabels("labels", class_columns=("dog", "cat"))
  np.testing.assert_array_equal(np.stack(columns.ids(rows)),
                                [[0, 1], [-1, -1], [1, -1]])
  task = names.as_task(2)
  assert task.kind == "multilabel" and task.num_classes == 2
  np.testing.assert_array_equal(task.label({"labels": ids[1]}).numpy(),
                                [0.0, 0.0])
  np.testing.assert_array_equal(task.label({"labels": ids[2]}).numpy(),
                                [1.0, 0.0])
  with pytest.raises(ValueError, match="not both or neither"):
    folder.MultiLabels("labels")


def test_the_refusal_names_every_file_and_says_what_to_do():
  error = folder.refusal([(2, "a.png", "file not found", FileNotFoundError),
                          (5, "b.png", "cannot decode: bad", ValueError)],
                         9, "manifest.csv", [folder.SKIP_ADVICE])
  assert isinstance(error, ValueError)
  assert "2 of the 9 files listed in manifest.csv" in str(error)
  assert "Line 5: b.png: cannot decode: bad" in str(error)
  assert "on_error='skip'" in str(error)
  missing = folder.refusal([(2, "a.png", "file not found",
                             FileNotFoundError)], 1, "m.csv", [])
  assert isinstance(missing, FileNotFoundError)


def test_one_colour_throughout_is_named_and_noise_of_a_codec_is_not():
  flat = np.full((4, 8, 8, 3), (10, 20, 30), np.uint8)
  assert folder.single_colour(flat) == ("a single colour throughout (RGB "
                                        "10, 20, 30)")
  flat[0, 0, 0] = (12, 18, 31)  # A level or two of codec noise.
  assert folder.single_colour(flat) is not None
  flat[1, 2, 3] = (10, 20, 90)  # Something drawn.
  assert folder.single_colour(flat) is None
