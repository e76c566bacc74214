"""Tests for experiments/openmoji_folder.py: which emoji and tags the folder
keeps, the manifest it writes, and that ImageFolder reads it."""

import csv
import io
import os
import sys
import tarfile

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "experiments"))
import openmoji_folder  # pylint: disable=wrong-import-position

from s2l.datasets import image_folder  # pylint: disable=wrong-import-position

FIELDS = ("emoji", "hexcode", "group", "subgroups", "annotation", "tags",
          "skintone")
ROWS = [
    ("a", "1F600", "smileys-emotion", "", "", "face, smile, happy", ""),
    ("b", "1F603", "smileys-emotion", "", "", "face, smile", ""),
    ("c", "1F98A", "animals-nature", "", "", "animal, face", ""),
    ("d", "1F436", "animals-nature", "", "", "animal, dog", ""),
    ("e", "1F44D-1F3FB", "people-body", "", "", "hand, face", "1"),
    ("f", "1F9B0", "component", "", "", "hair", ""),
    ("g", "1F3F3", "flags", "", "", "flag, white", ""),
    ("h", "1F3F4", "flags", "", "", "flag, black", ""),  # No SVG.
    ("i", "2764", "smileys-emotion", "", "", "heart, love, love", ""),
]


def _package(tmp_path, broken=()):
  path = str(tmp_path / "openmoji-1.0.0.tgz")
  with tarfile.open(path, "w:gz") as tar:
    def add(name, data):
      info = tarfile.TarInfo(name)
      info.size = len(data)
      tar.addfile(info, io.BytesIO(data))
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(FIELDS)
    writer.writerows(ROWS)
    add(openmoji_folder.CSV_MEMBER, text.getvalue().encode("utf-8"))
    for row in ROWS:
      if row[1] != "1F3F4":
        body = b"broken" if row[1] in broken else row[1].encode()
        add(openmoji_folder.SVG_MEMBER.format(hexcode=row[1]), body)
  return path


def _fake_rasteriser(svg):
  """A picture that depends on the SVG's bytes, with a transparent corner."""
  if svg == b"broken":
    raise AttributeError("unsupported marker")
  rng = np.random.default_rng(sum(svg))
  rgba = rng.integers(0, 256, (16, 16, 4), dtype=np.uint8)
  rgba[..., 3] = 255
  rgba[:4, :4, 3] = 0  # Transparent: must come out white.
  return openmoji_folder.on_white(Image.fromarray(rgba, "RGBA"))


def test_base_emoji_with_a_colour_svg_are_kept_with_their_frequent_tags():
  rows = [dict(zip(FIELDS, r)) for r in ROWS]
  out, tags = openmoji_folder.manifest_rows(
      rows, lambda h: h != "1F3F4", num_tags=3)
  # Skin-tone variants, the component group and emoji without an SVG go.
  assert [r["path"] for r in out] == [
      "img/1F600.png", "img/1F603.png", "img/1F98A.png", "img/1F436.png",
      "img/1F3F3.png", "img/2764.png"]
  # face 3, animal 2, smile 2, then ties at 1 broken by name; a tag named
  # twice in one row counts once.
  assert tags == ["face", "animal", "smile"]
  assert [r["tags"] for r in out] == [
      "face;smile", "face;smile", "face;animal", "animal", "", ""]
  assert [r["group"] for r in out][:3] == ["smileys-emotion"] * 2 + [
      "animals-nature"]
  with pytest.raises(ValueError, match="no emoji to write"):
    openmoji_folder.manifest_rows(rows, lambda h: False, num_tags=3)


def test_the_folder_is_written_and_image_folder_reads_it(tmp_path):
  out = str(tmp_path / "OPENMOJI")
  summary = openmoji_folder.write_folder(
      _package(tmp_path, broken=("1F603",)), out, num_tags=4,
      rasterise=_fake_rasteriser)
  # The emoji the rasteriser failed on is left out, and named.
  assert summary["images"] == 5
  assert list(summary["skipped"]) == ["1F603"]
  assert summary["groups"] == {"smileys-emotion": 2, "animals-nature": 2,
                               "flags": 1}
  with open(os.path.join(out, "manifest.csv"), encoding="utf-8") as f:
    manifest = list(csv.DictReader(f))
  assert [m["path"] for m in manifest] == [
      "img/1F600.png", "img/1F98A.png", "img/1F436.png", "img/1F3F3.png",
      "img/2764.png"]
  image = np.asarray(Image.open(os.path.join(out, "img", "1F98A.png")))
  assert image.shape == (16, 16, 3)
  assert (image[:4, :4] == 255).all()
  folder = image_folder.ImageFolder(out, label_columns=("group",),
                                    multilabel_column="tags",
                                    split_fractions=(0.6, 0.2, 0.2))
  assert sorted(folder.class_names("group")) == [
      "animals-nature", "flags", "smileys-emotion"]
  # The 4 most frequent tags: face 3, animal 2, smile 2, then "dog" first
  # by name of those named once.
  assert summary["tags"] == ["face", "animal", "smile", "dog"]
  assert sorted(folder.class_names("labels")) == sorted(summary["tags"])


def test_a_package_without_openmoji_data_is_refused(tmp_path):
  path = str(tmp_path / "other.tgz")
  with tarfile.open(path, "w:gz") as tar:
    info = tarfile.TarInfo("package/index.js")
    tar.addfile(info, io.BytesIO(b""))
  with pytest.raises(ValueError, match="no package/data/openmoji.csv"):
    openmoji_folder.write_folder(path, str(tmp_path / "out"),
                                 rasterise=_fake_rasteriser)
