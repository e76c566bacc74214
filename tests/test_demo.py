"""Tests for s2l/demo.py: the toy pretext task is consistent and learnable."""

import numpy as np

from s2l import demo
from s2l import losses


def test_sorting_shuffled_patches_by_their_ranks_restores_the_chirp():
  rng = np.random.default_rng(0)
  patches = demo.make_chirps(8, 5, 16, rng)
  shuffled, ranks = demo.shuffle_patches(patches, rng)
  assert sorted(ranks[0]) == [1, 2, 3, 4, 5]
  restored = np.take_along_axis(
      shuffled, np.argsort(ranks, axis=-1)[..., None], axis=1)
  np.testing.assert_array_equal(restored, patches)


def test_fixed_table_shuffles_only_with_its_members():
  rng = np.random.default_rng(1)
  loss = losses.FixedPermutationLoss(5, num_permutations=4)
  _, ranks = demo.shuffle_patches(demo.make_chirps(50, 5, 16, rng), rng,
                                  loss.permutation_set.permutations)
  members = {tuple(row) for row in loss.permutation_set.permutations}
  assert {tuple(row.astype(int)) for row in ranks} <= members


def test_context_free_network_learns_to_reorder():
  partial, exact, _ = demo.train_one(
      "fy", losses.PerturbedFenchelYoungLoss(), steps=150, n=6,
      patch_length=24, batch_size=32, seed=0)
  assert partial > 0.5  # Chance is 1/6.
  assert 0.0 <= exact <= partial
