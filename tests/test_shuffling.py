"""Tests for s2l/data/shuffling.py."""

import itertools
import math

import numpy as np
import pytest
import tensorflow as tf

from s2l import permutations
from s2l.data import shuffling


def _seed(i):
  return tf.constant([7, i], tf.int64)


def test_ranks_reassemble_the_original_exactly():
  patches = tf.random.stateless_normal([6, 4, 5, 1], [1, 2])
  for i in range(20):
    example = shuffling.shuffle(patches, _seed(i))
    ranks = example["ranks"].numpy()
    assert sorted(ranks) == list(range(1, 7))
    # shuffled[i] = patches[ranks[i] - 1]
    np.testing.assert_array_equal(example["patches"].numpy(),
                                  patches.numpy()[ranks - 1])
    np.testing.assert_array_equal(
        shuffling.unshuffle(example["patches"], example["ranks"]).numpy(),
        patches.numpy())


def test_batched_unshuffle_inside_tf_data():
  patches = tf.reshape(tf.range(5 * 3, dtype=tf.float32), [5, 3])
  ds = tf.data.Dataset.range(8).map(
      lambda i: shuffling.shuffle(patches, tf.stack([i, i + 1])))
  for batch in ds.batch(4):
    restored = shuffling.unshuffle(batch["patches"], batch["ranks"])
    np.testing.assert_array_equal(restored.numpy(),
                                  np.broadcast_to(patches.numpy(), [4, 5, 3]))


@pytest.mark.parametrize("n", [3, 4])
def test_permutations_are_uniform_over_all_orders(n):
  draws = 240 * math.factorial(n)
  orders = tf.data.Dataset.range(draws).map(
      lambda i: shuffling.uniform_permutation(n, tf.stack([i, 3 * i + 1])))
  counts = {}
  for order in orders.batch(4096).as_numpy_iterator():
    for row in order:
      counts[tuple(row)] = counts.get(tuple(row), 0) + 1
  assert set(counts) == set(itertools.permutations(range(n)))
  expected = draws / math.factorial(n)
  chi2 = sum((c - expected)**2 / expected for c in counts.values())
  # 99.9% quantiles of χ² with 5 and 23 degrees of freedom.
  assert chi2 < {3: 20.5, 4: 49.7}[n], chi2


@pytest.mark.parametrize("fixed_set", [False, True])
def test_a_batch_is_shuffled_as_each_example_alone(fixed_set):
  table = (permutations.FixedPermutationSet.maximal_hamming(6, 10)
           if fixed_set else None)
  patches = tf.random.stateless_normal([16, 6, 3, 2], [1, 2])
  seeds = tf.stack([tf.fill([16], 7), tf.range(16)], axis=1)
  seeds = tf.cast(seeds, tf.int64)
  eager = shuffling.shuffle_batch(patches, seeds, table)
  compiled = tf.function(lambda p, s: shuffling.shuffle_batch(p, s, table),
                         jit_compile=True)(patches, seeds)
  for got in (eager, compiled):
    for b in range(16):
      alone = shuffling.shuffle(patches[b], seeds[b], table)
      for key in ("patches", "ranks", "permutation_index"):
        np.testing.assert_array_equal(got[key][b].numpy(),
                                      alone[key].numpy())
    np.testing.assert_array_equal(
        shuffling.unshuffle(got["patches"], got["ranks"]).numpy(),
        patches.numpy())


def test_batched_permutations_are_uniform_over_all_orders():
  draws = 240 * 6
  seeds = tf.stack([tf.range(draws, dtype=tf.int64),
                    3 * tf.range(draws, dtype=tf.int64) + 1], axis=1)
  ranks = tf.function(shuffling.shuffle_batch)(
      tf.zeros([draws, 3]), seeds)["ranks"].numpy()
  counts = {}
  for row in ranks:
    counts[tuple(row)] = counts.get(tuple(row), 0) + 1
  assert set(counts) == set(itertools.permutations(range(1, 4)))
  chi2 = sum((c - 240)**2 / 240 for c in counts.values())
  assert chi2 < 20.5, chi2  # 99.9% quantile of χ² with 5 degrees of freedom.


def test_seeds_reproduce_and_differ():
  patches = tf.range(10)
  a = shuffling.shuffle(patches, _seed(1))["ranks"].numpy()
  np.testing.assert_array_equal(a, shuffling.shuffle(patches, _seed(1))["ranks"])
  assert not np.array_equal(a, shuffling.shuffle(patches, _seed(2))["ranks"])


def test_fixed_set_yields_only_its_members_with_their_index():
  table = permutations.FixedPermutationSet.maximal_hamming(5, 8, seed=3)
  seen = set()
  for i in range(200):
    example = shuffling.shuffle(tf.range(5), _seed(i), table)
    index = int(example["permutation_index"])
    np.testing.assert_array_equal(example["ranks"].numpy(),
                                  table.permutations[index])
    seen.add(index)
  assert seen == set(range(8))


def test_identity_and_errors():
  example = shuffling.identity(tf.zeros([4, 2]))
  np.testing.assert_array_equal(example["ranks"].numpy(), [1, 2, 3, 4])
  table = permutations.FixedPermutationSet.maximal_hamming(5, 3)
  with pytest.raises(ValueError, match="num_items=4"):
    shuffling.shuffle(tf.zeros([4, 2]), _seed(0), table)
