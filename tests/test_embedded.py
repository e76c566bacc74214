"""Tests for s2l/data/embedded.py."""

import numpy as np
import pytest

from s2l.data import embedded


def test_example_rng_is_a_function_of_seed_split_and_index():
  draw = lambda *key: embedded.example_rng(*key).integers(1 << 30, size=4)
  np.testing.assert_array_equal(draw(3, "train", 7), draw(3, "train", 7))
  np.testing.assert_array_equal(  # The stream the data sets were built with.
      draw(3, "test", 7),
      np.random.default_rng([3, 2, 7]).integers(1 << 30, size=4))
  others = [draw(4, "train", 7), draw(3, "validation", 7), draw(3, "train", 8)]
  assert all(not np.array_equal(draw(3, "train", 7), o) for o in others)


def test_check_split_counts():
  embedded.check_split_counts({"train": 2, "validation": 1, "test": 1})
  with pytest.raises(ValueError, match="positive count for each of"):
    embedded.check_split_counts({"train": 2, "test": 1})
  with pytest.raises(ValueError, match="positive count"):
    embedded.check_split_counts({"train": 2, "validation": 0, "test": 1})
