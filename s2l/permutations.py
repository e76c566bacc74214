"""Fixed permutation sets for the "Fixed Permutation" baseline.

The paper compares its differentiable-ranking objective with a "Fixed
Permutation" baseline: the jigsaw approach of Noroozi & Favaro (2016),
"Unsupervised Learning of Visual Representations by Solving Jigsaw Puzzles",
where the network classifies which of L fixed permutations shuffled the
patches. This module holds the greedy
maximal-Hamming selection of those L permutations (their Algorithm 1) and
`FixedPermutationSet`, which maps between permutations and class indices with
pure TF ops so it can run inside `tf.data` and `tf.function`.

Convention (shared with `s2l.ranking` and `s2l.metrics`): a permutation is a
vector of ranks 1..n, where `ranks[i]` is the 1-based position of shuffled
patch i in the original order. Equivalently, ranks are in ascending order of
scores: the smallest score gets rank 1. The Hamming distance between two
permutations is the same whether they are written as ranks or as their
inverses, so the selection does not depend on this choice.
"""

import itertools
import math

import numpy as np
import tensorflow as tf


def _candidate_pool(num_items, max_candidates, rng):
  """Returns the candidate permutations as int8 ranks, [M, num_items]."""
  if math.factorial(num_items) <= max_candidates:
    flat = np.fromiter(
        itertools.chain.from_iterable(
            itertools.permutations(range(1, num_items + 1))),
        dtype=np.int8)
    return flat.reshape(-1, num_items)
  identity = np.tile(np.arange(1, num_items + 1, dtype=np.int8),
                     (max_candidates, 1))
  # Sampled candidates may repeat; the greedy loop masks repeats of chosen
  # rows, so they cost memory but never end up in the output twice.
  return rng.permuted(identity, axis=1)


def maximal_hamming_permutations(num_items: int,
                                 num_permutations: int,
                                 seed: int = 0,
                                 max_candidates: int = 400_000) -> np.ndarray:
  """Greedily selects permutations with maximal Hamming distance.

  This is the "maximal" variant of Algorithm 1 of Noroozi & Favaro (2016).
  The candidate pool is all `num_items!` permutations in lexicographic order
  when `num_items! <= max_candidates`, otherwise `max_candidates` permutations
  drawn with `np.random.default_rng(seed)`. The first permutation is a random
  candidate (drawn from the same generator, after the pool); each next one is
  the candidate maximising the sum of Hamming distances to those already
  chosen, ties going to the lowest candidate index. Chosen candidates and
  their duplicates in the pool are never picked again. The sum criterion
  raises the average distance, not the minimum: for n = 9, L = 100 most
  pairs are at distance 9 but a few late picks are at distance 2.

  Args:
    num_items: n, the number of patches (>= 1).
    num_permutations: L, the number of permutations to select, between 1 and
      the number of distinct candidates.
    seed: seed of the generator that samples the pool and the first pick.
    max_candidates: largest pool size; above it, the pool is sampled.

  Returns:
    [L, n] int32 array, each row a permutation given as ranks 1..n, in the
    order they were selected.

  Raises:
    ValueError: if `num_items < 1`, `max_candidates < 1`, or
      `num_permutations` is not between 1 and the number of distinct
      candidates (n! when the pool is exhaustive).
  """
  if num_items < 1:
    raise ValueError(f'num_items must be >= 1, got {num_items}.')
  if num_items > 127:
    # Candidates are stored as int8 to keep a 400k-row pool small.
    raise ValueError(f'num_items must be <= 127, got {num_items}.')
  if max_candidates < 1:
    raise ValueError(f'max_candidates must be >= 1, got {max_candidates}.')
  num_all = math.factorial(num_items)
  exhaustive = num_all <= max_candidates
  limit = num_all if exhaustive else max_candidates
  if not 1 <= num_permutations <= limit:
    what = (f'{num_items}! = {num_all}' if exhaustive else
            f'max_candidates = {max_candidates} (sampled, since '
            f'{num_items}! > max_candidates)')
    raise ValueError(f'num_permutations must be between 1 and {what}, got '
                     f'{num_permutations}.')

  rng = np.random.default_rng(seed)
  candidates = _candidate_pool(num_items, max_candidates, rng)
  # Item-major layout: comparing n contiguous int8 rows of length M against
  # one value each is ~40x faster than a row-wise count over [M, n].
  candidates_t = np.ascontiguousarray(candidates.T)
  # A running sum of distances, in the smallest dtype that cannot overflow,
  # keeps each greedy step one pass over the pool.
  sum_dtype = np.int16 if num_permutations * num_items < 2**15 else np.int32
  distance_sum = np.zeros(len(candidates), sum_dtype)
  available = np.ones(len(candidates), bool)
  chosen = [int(rng.integers(len(candidates)))]
  while True:
    agreements = (candidates_t == candidates[chosen[-1]][:, None]).sum(
        axis=0, dtype=np.int8)
    # Full agreement marks the chosen row and every duplicate of it.
    available &= agreements != num_items
    if len(chosen) == num_permutations:
      break
    if not available.any():
      raise ValueError(
          f'num_permutations={num_permutations} exceeds the {len(chosen)} '
          f'distinct permutations among max_candidates={max_candidates} '
          'sampled candidates; increase max_candidates or lower '
          'num_permutations.')
    distance_sum += num_items - agreements.astype(sum_dtype)
    chosen.append(int(np.argmax(np.where(available, distance_sum, -1))))
  return candidates[chosen].astype(np.int32)


def pairwise_hamming(permutations) -> np.ndarray:
  """[L, n] permutations -> [L, L] int count of positions where two differ."""
  rows = np.asarray(permutations)
  return (rows[:, None, :] != rows[None, :, :]).sum(-1)


def named_shares(permutations, num_slots: int) -> np.ndarray:
  """For each set of `num_slots` input slots, the share of rows it names.

  A classifier among L fixed permutations only has to recognise which
  original patch lies in enough input slots to tell its L classes apart. For
  every set S of k slots out of n (in `itertools.combinations` order), this
  is the share of the rows whose ranks at S no other row shares: the
  permutations that recognising S's contents alone names. Over all n!
  orders, only sets of n - 1 slots name any; over a small set far fewer do.

  Args:
    permutations: [L, n] distinct rows of ranks 1..n.
    num_slots: k, 0 <= k <= n.

  Returns:
    [C(n, k)] float array in [0, 1]; 1 where S tells every row apart.

  Raises:
    ValueError: if `num_slots` is not between 0 and n.
  """
  rows = np.asarray(permutations)
  n = rows.shape[1]
  if not 0 <= num_slots <= n:
    raise ValueError(f'num_slots must be between 0 and n = {n}, got '
                     f'{num_slots}.')
  shares = []
  for subset in itertools.combinations(range(n), num_slots):
    _, inverse, counts = np.unique(rows[:, list(subset)], axis=0,
                                   return_inverse=True, return_counts=True)
    shares.append(np.mean(counts[inverse.ravel()] == 1))
  return np.array(shares, dtype=np.float64)


class FixedPermutationSet:
  """L fixed permutations of n items, the classes of the jigsaw baseline.

  Rows are ranks 1..n (see the module docstring); class k is row k. The TF
  methods are pure TF ops on a constant table, usable eagerly, inside
  `tf.function` and inside `tf.data` maps.
  """

  def __init__(self, permutations):
    """Validates and stores the permutations.

    Args:
      permutations: [L, n] array-like of ranks 1..n (any numeric dtype with
        integral values), rows distinct.

    Raises:
      ValueError: if the array is not 2-D and non-empty, a row is not a
        permutation of 1..n, or two rows are equal.
    """
    array = np.asarray(permutations)
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
      raise ValueError('permutations must be a non-empty [L, n] array, got '
                       f'shape {array.shape}.')
    num_items = array.shape[1]
    identity = np.arange(1, num_items + 1)
    for k, row in enumerate(array):
      if not np.array_equal(np.sort(row), identity):
        raise ValueError(f'permutations[{k}] = {row.tolist()} is not a '
                         f'permutation of the ranks 1..{num_items}.')
    array = array.astype(np.int32)
    _, first, counts = np.unique(
        array, axis=0, return_index=True, return_counts=True)
    if (counts > 1).any():
      k = int(first[np.argmax(counts > 1)])
      raise ValueError(f'permutations must be distinct; row {k} = '
                       f'{array[k].tolist()} appears {counts.max()} times.')
    array.setflags(write=False)
    self._permutations = array

  @classmethod
  def maximal_hamming(cls,
                      num_items: int,
                      num_permutations: int,
                      seed: int = 0,
                      max_candidates: int = 400_000) -> 'FixedPermutationSet':
    """Builds the set with `maximal_hamming_permutations` (same arguments)."""
    return cls(
        maximal_hamming_permutations(num_items, num_permutations, seed,
                                     max_candidates))

  @property
  def num_items(self) -> int:
    """n, the length of each permutation."""
    return self._permutations.shape[1]

  @property
  def num_permutations(self) -> int:
    """L, the number of classes."""
    return self._permutations.shape[0]

  @property
  def permutations(self) -> np.ndarray:
    """The read-only [L, n] int32 table of ranks."""
    return self._permutations

  def _check_last_dim(self, tensor, expected, arg):
    size = tensor.shape[-1] if tensor.shape.rank else None
    if tensor.shape.rank == 0 or (size is not None and size != expected):
      raise ValueError(f'{arg} must have shape [..., {expected}], got '
                       f'{tensor.shape}.')

  def index_of(self, ranks) -> tf.Tensor:
    """Returns the class index of each permutation.

    Args:
      ranks: [..., n] ranks 1..n, any int or float dtype.

    Returns:
      [...] int32 index k with `permutations[k] == ranks`, or -1 where the
      permutation is not in the set (including non-integral floats).
    """
    ranks = tf.convert_to_tensor(ranks)
    self._check_last_dim(ranks, self.num_items, 'ranks')
    # Compare in the input's own dtype (int64 for integers) so that no value
    # is rounded into a false match.
    dtype = ranks.dtype if ranks.dtype.is_floating else tf.int64
    table = tf.constant(self._permutations, dtype=dtype)
    ranks = tf.cast(ranks, dtype)
    # [..., 1, n] vs [L, n] -> [..., L]; L * n is small, so brute force beats
    # a hash table, which would need initialising inside tf.data.
    matches = tf.reduce_all(tf.equal(ranks[..., None, :], table), axis=-1)
    index = tf.argmax(tf.cast(matches, tf.int32), axis=-1, output_type=tf.int32)
    return tf.where(tf.reduce_any(matches, axis=-1), index, -1)

  def ranks_of(self, index) -> tf.Tensor:
    """Returns the permutation of each class index.

    Args:
      index: [...] int indices in [0, L). Out-of-range indices raise on CPU
        and give zeros on GPU (`tf.gather` semantics).

    Returns:
      [..., n] int32 ranks.
    """
    return tf.gather(tf.constant(self._permutations), index)

  def decode(self, logits) -> tf.Tensor:
    """Returns the permutation of the argmax class, as ranks.

    The ranks are distinct integers, so `s2l.ranking.rank` maps them to
    themselves and `s2l.metrics` can take them as scores.

    Args:
      logits: [..., L] float class scores.

    Returns:
      [..., n] ranks in the dtype of `logits`.
    """
    logits = tf.convert_to_tensor(logits)
    self._check_last_dim(logits, self.num_permutations, 'logits')
    table = tf.constant(self._permutations, dtype=logits.dtype)
    return tf.gather(table, tf.argmax(logits, axis=-1))

  def __repr__(self):
    return (f'FixedPermutationSet(num_items={self.num_items}, '
            f'num_permutations={self.num_permutations})')
