"""Tests for s2l/configurables.py: the library's parts are bindable by gin."""

import gin
import pytest

from s2l import configurables  # pylint: disable=unused-import
from s2l import losses
from s2l import permutations


def test_losses_are_configurable_by_gin():
  gin.parse_config("""
      PerturbedFenchelYoungLoss.epsilon = 0.5
      PerturbedFenchelYoungLoss.num_samples = 3
      SoftRankLoss.regularization = 'kl'
      FixedPermutationLoss.num_permutations = 7
  """)
  fy = gin.get_configurable("PerturbedFenchelYoungLoss")()
  assert isinstance(fy, losses.PerturbedFenchelYoungLoss)
  assert (fy.epsilon, fy.num_samples) == (0.5, 3)
  assert gin.get_configurable("SoftRankLoss")().regularization == "kl"
  fixed = gin.get_configurable("FixedPermutationLoss")(num_items=4)
  assert fixed.permutation_set.num_permutations == 7
  with pytest.raises(ValueError,
                     match="doesn't have a parameter named 'epsilonn'"):
    gin.parse_config("PerturbedFenchelYoungLoss.epsilonn = 0.5")


def test_every_loss_is_registered_and_fixed_sets_are_bindable():
  for cls in configurables.LOSSES:
    assert gin.get_configurable(cls.__name__)
  gin.parse_config("""
      maximal_hamming_permutation_set.num_items = 4
      maximal_hamming_permutation_set.num_permutations = 5
      maximal_hamming_permutation_set.seed = 2
  """)
  built = gin.get_configurable("maximal_hamming_permutation_set")()
  expected = permutations.FixedPermutationSet.maximal_hamming(4, 5, seed=2)
  assert (built.permutations == expected.permutations).all()


def test_sources_are_built_by_gin():
  from s2l.data import sources  # pylint: disable=import-outside-toplevel
  gin.clear_config()
  gin.parse_config("registered_source.name = 'synthetic_notes_tiny'")
  assert gin.get_configurable("registered_source")() is sources.get(
      "synthetic_notes_tiny")
  gin.parse_config("registered_source.name = 'mnist'")
  with pytest.raises(ValueError, match="unknown data source 'mnist'"):
    gin.get_configurable("registered_source")()
  gin.clear_config()
