"""Tests for s2l/datasets/emoji_images.py: drawn pictures from a pinned
font, labelled from the pinned Unicode emoji data."""

import collections

import numpy as np
import pytest
import tensorflow_datasets as tfds

from s2l.data import sources
from s2l.datasets import emoji_images


def test_glyphs_are_split_by_code_point_and_labelled_from_their_names():
  by_split = emoji_images.glyphs()
  counts = {split: len(glyphs) for split, glyphs in by_split.items()}
  assert sum(counts.values()) > 1100
  assert counts["train"] > 4 * counts["test"] > 0
  codepoints = [{g.codepoint for g in glyphs} for glyphs in by_split.values()]
  assert not (codepoints[0] & codepoints[1] or codepoints[0] & codepoints[2]
              or codepoints[1] & codepoints[2])
  glyph = {g.name: g for glyphs in by_split.values() for g in glyphs}[
      "SMILING FACE WITH OPEN MOUTH"]
  assert [emoji_images.LABELS[i] for i in glyph.labels] == [
      "Smileys & Emotion", "face", "open", "mouth", "smiling"]
  categories = collections.Counter(
      g.category for glyphs in by_split.values() for g in glyphs)
  assert set(categories) == set(range(len(emoji_images.CATEGORIES)))


def test_a_rendering_is_a_drawn_glyph_and_a_pure_function_of_its_seed():
  glyph = emoji_images.glyphs()["train"][0]
  image = emoji_images.render(glyph, 64, np.random.default_rng(3))
  again = emoji_images.render(glyph, 64, np.random.default_rng(3))
  other = emoji_images.render(glyph, 64, np.random.default_rng(4))
  assert image.shape == (64, 64, 3) and image.dtype == np.uint8
  np.testing.assert_array_equal(image, again)
  assert np.abs(image.astype(int) - other).mean() > 5
  # Ink on paper: two clearly different levels, the ink a minority.
  grey = image.mean(-1)
  paper = np.median(grey)
  ink = np.abs(grey - paper) > 60
  assert 0.03 < ink.mean() < 0.5


def test_the_tiny_twin_builds_offline_as_a_multilabel_source(tmp_path):
  builder = tfds.builder("s2l_emoji_images", config="tiny",
                         data_dir=str(tmp_path))
  builder.download_and_prepare()
  examples = list(tfds.as_numpy(builder.as_dataset(split="test",
                                                   shuffle_files=False)))
  assert len(examples) == 24
  assert examples[0]["image"].shape == (32, 32, 3)
  assert all(int(e["category"]) == int(e["labels"][0]) for e in examples)
  tasks = sources.get("emoji_images").tasks
  assert tasks["labels"].kind == "multilabel"
  assert tasks["labels"].num_classes == len(emoji_images.LABELS)
  assert tasks["category"].num_classes == len(emoji_images.CATEGORIES)


def test_a_missing_font_says_how_to_get_it(monkeypatch):
  monkeypatch.setattr(emoji_images.os.path, "isfile", lambda path: False)
  with pytest.raises(FileNotFoundError, match="manimgx-fonts"):
    emoji_images.font_path()
