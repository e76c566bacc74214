"""Tests for s2l/permutations.py."""

import itertools
import re

import numpy as np
import pytest
import tensorflow as tf

from s2l import permutations
from s2l import ranking


_pairwise_hamming = permutations.pairwise_hamming


def _min_and_mean_off_diagonal(distances):
  off = distances[~np.eye(len(distances), dtype=bool)]
  return off.min(), off.mean()


@pytest.fixture(scope='module')
def greedy_9_100():
  return permutations.maximal_hamming_permutations(9, 100, seed=0)


# --- pairwise_hamming, identifying_share ------------------------------------


def test_pairwise_hamming_counts_the_positions_that_differ():
  rows = [[1, 2, 3, 4], [2, 1, 3, 4], [4, 3, 2, 1]]
  np.testing.assert_array_equal(permutations.pairwise_hamming(rows),
                                [[0, 2, 4], [2, 0, 4], [4, 4, 0]])


def test_all_orders_are_named_only_by_every_slot_but_one():
  every = list(itertools.permutations(range(1, 5)))
  # 3 slots fix the 4th; 2 slots show 12 ordered pairs for 24 orders, each
  # pair shared by 2 orders.
  np.testing.assert_array_equal(permutations.named_shares(every, 3), [1.0] * 4)
  np.testing.assert_array_equal(permutations.named_shares(every, 2), [0.0] * 6)


def test_named_shares_count_the_rows_each_slot_set_tells_apart():
  rows = [[1, 2, 3], [1, 3, 2], [2, 1, 3]]
  # Slot 0 names only [2, 1, 3]; slot 1 tells all three apart; slot 2 names
  # only [1, 3, 2].
  np.testing.assert_allclose(permutations.named_shares(rows, 1),
                             [1 / 3, 1.0, 1 / 3])
  np.testing.assert_array_equal(permutations.named_shares(rows, 0), [0.0])
  np.testing.assert_array_equal(permutations.named_shares([[1, 2]], 0), [1.0])
  # Of a maximal-Hamming set of 100 on 9 tiles, no 3 tiles name every row,
  # a few sets of 4 do.
  greedy = permutations.maximal_hamming_permutations(9, 100, seed=0)
  assert permutations.named_shares(greedy, 3).max() < 1.0
  assert 0.0 < np.mean(permutations.named_shares(greedy, 4) == 1.0) < 1.0
  with pytest.raises(ValueError, match="between 0 and n = 3"):
    permutations.named_shares([[1, 2, 3]], 4)


# --- maximal_hamming_permutations -------------------------------------------


def test_all_permutations_when_l_is_n_factorial():
  out = permutations.maximal_hamming_permutations(4, 24)
  assert out.shape == (24, 4)
  assert set(map(tuple, out.tolist())) == set(
      itertools.permutations(range(1, 5)))


def test_rows_are_distinct_int32_rank_permutations(greedy_9_100):
  assert greedy_9_100.shape == (100, 9)
  assert greedy_9_100.dtype == np.int32
  np.testing.assert_array_equal(
      np.sort(greedy_9_100, axis=1), np.tile(np.arange(1, 10), (100, 1)))
  assert len(np.unique(greedy_9_100, axis=0)) == 100


def test_deterministic_for_a_seed_and_differs_across_seeds():
  first = permutations.maximal_hamming_permutations(6, 20, seed=1)
  again = permutations.maximal_hamming_permutations(6, 20, seed=1)
  other = permutations.maximal_hamming_permutations(6, 20, seed=2)
  np.testing.assert_array_equal(first, again)
  assert not np.array_equal(first, other)


@pytest.mark.parametrize('seed', [0, 3, 11])
def test_greedy_order_matches_brute_force(seed):
  num_items, num_permutations = 5, 10
  out = permutations.maximal_hamming_permutations(
      num_items, num_permutations, seed=seed)
  # Independent re-implementation with plain Python loops, starting from the
  # implementation's random first pick.
  pool = list(itertools.permutations(range(1, num_items + 1)))
  chosen = [tuple(out[0])]
  while len(chosen) < num_permutations:
    best, best_sum = None, -1
    for candidate in pool:  # Lexicographic order: first maximum wins ties.
      if candidate in chosen:
        continue
      total = sum(
          sum(a != b for a, b in zip(candidate, c)) for c in chosen)
      if total > best_sum:
        best, best_sum = candidate, total
    chosen.append(best)
  np.testing.assert_array_equal(out, np.array(chosen))


def test_greedy_spreads_permutations_more_than_random(greedy_9_100):
  rng = np.random.default_rng(0)
  random = np.stack([rng.permutation(9) + 1 for _ in range(100)])
  greedy = _pairwise_hamming(greedy_9_100)
  random = _pairwise_hamming(random)
  greedy_min, greedy_mean = _min_and_mean_off_diagonal(greedy)
  _, random_mean = _min_and_mean_off_diagonal(random)
  # Maximising the sum of distances raises the average (random: about
  # n - 1 = 8) and makes most pairs derangements of each other (distance 9).
  assert greedy_mean > random_mean + 0.05, (greedy_mean, random_mean)
  assert (greedy == 9).mean() > (random == 9).mean() + 0.15
  # It does not raise the minimum (random sets of 100 typically reach 3):
  # the sum criterion accepts close pairs late in the greedy order. A change
  # to a max-min criterion would be a different algorithm than Noroozi's.
  assert greedy_min == 2, greedy_min


def test_sampled_pool_never_repeats_a_permutation():
  # 7! = 5040 > 200, so the pool is 200 sampled permutations.
  out = permutations.maximal_hamming_permutations(7, 50, max_candidates=200)
  assert len(np.unique(out, axis=0)) == 50
  np.testing.assert_array_equal(
      np.sort(out, axis=1), np.tile(np.arange(1, 8), (50, 1)))


def test_sampled_pool_with_duplicates_caps_at_distinct_candidates():
  # 20 draws among 4! = 24 permutations repeat some, so 20 cannot be met.
  with pytest.raises(ValueError, match='distinct') as error:
    permutations.maximal_hamming_permutations(4, 20, max_candidates=20)
  num_distinct = int(re.search(r'exceeds the (\d+) distinct',
                               str(error.value)).group(1))
  assert num_distinct < 20
  out = permutations.maximal_hamming_permutations(
      4, num_distinct, max_candidates=20)
  assert len(np.unique(out, axis=0)) == num_distinct


def test_single_item():
  np.testing.assert_array_equal(
      permutations.maximal_hamming_permutations(1, 1), [[1]])


@pytest.mark.parametrize('kwargs, message', [
    (dict(num_items=4, num_permutations=25), r'between 1 and 4! = 24, got 25'),
    (dict(num_items=4, num_permutations=0), r'between 1 and 4! = 24, got 0'),
    (dict(num_items=0, num_permutations=1), r'num_items must be >= 1, got 0'),
    (dict(num_items=9, num_permutations=300, max_candidates=200),
     r'max_candidates = 200'),
])
def test_maximal_hamming_validation(kwargs, message):
  with pytest.raises(ValueError, match=message):
    permutations.maximal_hamming_permutations(**kwargs)


# --- FixedPermutationSet ------------------------------------------------------


@pytest.fixture(scope='module')
def perm_set():
  return permutations.FixedPermutationSet.maximal_hamming(5, 10, seed=0)


def test_properties(perm_set):
  assert perm_set.num_items == 5
  assert perm_set.num_permutations == 10
  np.testing.assert_array_equal(
      perm_set.permutations,
      permutations.maximal_hamming_permutations(5, 10, seed=0))
  with pytest.raises(ValueError):
    perm_set.permutations[0, 0] = 3  # Read-only.


def test_accepts_integral_floats():
  perm_set = permutations.FixedPermutationSet([[2.0, 1.0], [1.0, 2.0]])
  assert perm_set.permutations.dtype == np.int32
  np.testing.assert_array_equal(perm_set.permutations, [[2, 1], [1, 2]])


@pytest.mark.parametrize('dtype', [tf.int32, tf.int64, tf.float32, tf.float64])
def test_index_of_ranks_of_round_trip(perm_set, dtype):
  index = tf.constant([[3, 0, 9], [1, 1, 7]])  # [2, 3]
  ranks = perm_set.ranks_of(index)
  assert ranks.dtype == tf.int32
  np.testing.assert_array_equal(ranks, perm_set.permutations[index.numpy()])
  found = perm_set.index_of(tf.cast(ranks, dtype))
  assert found.dtype == tf.int32
  np.testing.assert_array_equal(found, index)


def test_index_of_ranks_of_in_tf_function(perm_set):

  @tf.function
  def round_trip(index):
    return perm_set.index_of(perm_set.ranks_of(index))

  index = tf.range(10)
  np.testing.assert_array_equal(round_trip(index), index)


def test_index_of_ranks_of_in_tf_data(perm_set):
  dataset = tf.data.Dataset.range(10).map(
      lambda i: perm_set.ranks_of(tf.cast(i, tf.int32)))
  ranks = np.stack(list(dataset.as_numpy_iterator()))
  np.testing.assert_array_equal(ranks, perm_set.permutations)
  dataset = tf.data.Dataset.from_tensor_slices(
      tf.cast(perm_set.permutations, tf.float32)).map(perm_set.index_of)
  np.testing.assert_array_equal(list(dataset.as_numpy_iterator()), range(10))


def test_index_of_is_minus_one_outside_the_set(perm_set):
  in_set = set(map(tuple, perm_set.permutations.tolist()))
  outside = next(p for p in itertools.permutations(range(1, 6))
                 if p not in in_set)
  queries = tf.constant([
      list(outside),
      perm_set.permutations[4].tolist(),
      [1, 1, 1, 1, 1],
  ])
  np.testing.assert_array_equal(perm_set.index_of(queries), [-1, 4, -1])
  # Non-integral ranks never match, even if they round to a member.
  near = perm_set.permutations[4].astype(np.float32) + 0.25
  assert perm_set.index_of(near).numpy() == -1


@pytest.mark.parametrize('dtype', [tf.float32, tf.float64])
def test_decode_picks_argmax_class(perm_set, dtype):
  logits = tf.random.stateless_normal([3, 4, 10], seed=[1, 2], dtype=dtype)
  decoded = perm_set.decode(logits)
  assert decoded.dtype == dtype
  expected = perm_set.permutations[np.argmax(logits.numpy(), axis=-1)]
  np.testing.assert_array_equal(decoded, expected)
  # Decoded ranks are their own ranks, so metrics can take them as scores.
  np.testing.assert_array_equal(ranking.rank(decoded), decoded)


def test_decode_one_hot(perm_set):
  logits = tf.one_hot([6, 2], 10)
  np.testing.assert_array_equal(
      perm_set.decode(logits), perm_set.permutations[[6, 2]])


@pytest.mark.parametrize('rows, message', [
    ([[1, 2, 2]], r'permutations\[0\] = \[1, 2, 2\] is not a permutation'),
    ([[1, 2, 3], [0, 1, 2]], r'permutations\[1\] = \[0, 1, 2\]'),
    ([[1, 2, 4]], r'ranks 1..3'),
    ([[1.5, 2, 3]], r'not a permutation'),
    ([[1, 2, 3], [2, 1, 3], [1, 2, 3]], r'distinct; row 0 = \[1, 2, 3\]'),
    ([1, 2, 3], r'\[L, n\] array'),
    (np.zeros((0, 3)), r'\[L, n\] array'),
])
def test_set_validation(rows, message):
  with pytest.raises(ValueError, match=message):
    permutations.FixedPermutationSet(rows)


def test_shape_validation(perm_set):
  with pytest.raises(ValueError, match=r'ranks must have shape \[..., 5\]'):
    perm_set.index_of(tf.ones([2, 4]))
  with pytest.raises(ValueError, match=r'logits must have shape \[..., 10\]'):
    perm_set.decode(tf.ones([2, 5]))
