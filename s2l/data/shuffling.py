"""On-the-fly permutations of an example's patches (paper section 2.1, figure 2).

Label convention (as in `s2l.ranking`): for shuffled patch i, `ranks[i]` is its
1-based position in the original order, so

    shuffled[i] = patches[ranks[i] − 1]   and   patches = unshuffle(shuffled, ranks).

These are the ranks that the ranking losses take as y_true. Permutations are
drawn with stateless random ops from a per-example seed, inside the tf.data
graph (`shuffle`) or in the model on a batch (`shuffle_batch`, the same
draws): reproducible, and new at every epoch when the seed folds in the epoch.
"""

from typing import Dict, Optional

import tensorflow as tf

from s2l import permutations


def uniform_permutation(n: int, seed: tf.Tensor) -> tf.Tensor:
  """A permutation of 0..n−1 drawn uniformly over all n! orders.

  The argsort of n i.i.d. random 64-bit integers (ties have probability
  ~n²/2⁶⁴).

  Args:
    n: number of items.
    seed: [2] int stateless seed.

  Returns:
    [n] int32.
  """
  return _orders(_draw(n, seed, None), None)[0]


def _draw(n: int, seed: tf.Tensor,
          permutation_set: Optional[permutations.FixedPermutationSet]
          ) -> tf.Tensor:
  """One example's random numbers: [n] int64 sort keys, or the int32 class
  in the fixed set.

  Philox by name: the default ("auto_select") is Philox in tf.data and in
  plain TF, but inside an XLA-compiled function it drew other numbers (TF
  2.15, CPU), which would give a compiled step other permutations.
  """
  if permutation_set is None:
    return tf.random.stateless_uniform([n], seed, minval=None, maxval=None,
                                       dtype=tf.int64, alg="philox")
  return tf.random.stateless_uniform(
      [], seed, 0, permutation_set.num_permutations, dtype=tf.int32,
      alg="philox")


def _orders(draws: tf.Tensor,
            permutation_set: Optional[permutations.FixedPermutationSet]):
  """Orders [..., n] int32 and class indices [...] (−1 without a set) from
  `_draw`'s keys [..., n] or classes [...]."""
  if permutation_set is None:
    return (tf.argsort(draws, axis=-1, stable=True),
            tf.fill(tf.shape(draws)[:-1], -1))
  return permutation_set.ranks_of(draws) - 1, draws


def _check(n: Optional[int], shape, permutation_set) -> None:
  if n is None:
    raise ValueError("the number of patches must be static, got shape "
                     f"{shape}.")
  if permutation_set is not None and permutation_set.num_items != n:
    raise ValueError(
        f"the fixed permutation set orders {permutation_set.num_items} "
        f"items but the input has {n} patches; build the set with "
        f"num_items={n}.")


def shuffle(patches: tf.Tensor, seed: tf.Tensor,
            permutation_set: Optional[permutations.FixedPermutationSet] = None
            ) -> Dict[str, tf.Tensor]:
  """Shuffles the patches of one example.

  Args:
    patches: [n, *patch_shape].
    seed: [2] int stateless seed of this example.
    permutation_set: None to draw from all n! orders; a fixed set (the
      Fixed Permutation baseline) to draw one of its L members uniformly.

  Returns:
    {"patches": [n, *patch_shape] shuffled, "ranks": [n] int32 in 1..n,
     "permutation_index": int32 scalar, the class in the fixed set, or −1}.
  """
  n = patches.shape[0]
  _check(n, patches.shape, permutation_set)
  order, index = _orders(_draw(n, seed, permutation_set), permutation_set)
  return {"patches": tf.gather(patches, order), "ranks": order + 1,
          "permutation_index": index}


def shuffle_batch(patches: tf.Tensor, seeds: tf.Tensor,
                  permutation_set: Optional[
                      permutations.FixedPermutationSet] = None
                  ) -> Dict[str, tf.Tensor]:
  """Shuffles each example of a batch as `shuffle` does, inside a model.

  Row b gets exactly `shuffle(patches[b], seeds[b], permutation_set)`: the
  same stateless draw from its own seed, so the permutations do not depend
  on the batch or on how it is split across replicas. Only the draws loop
  over the batch (each is one small op); sorting and gathering are batched.

  Args:
    patches: [B, n, *patch_shape].
    seeds: [B, 2] int stateless seeds, one per example.
    permutation_set: as in `shuffle`.

  Returns:
    {"patches": [B, n, *patch_shape] shuffled, "ranks": [B, n] int32,
     "permutation_index": [B] int32}.
  """
  n = patches.shape[1]
  _check(n, patches.shape, permutation_set)
  spec = tf.TensorSpec([n], tf.int64) if permutation_set is None else \
      tf.TensorSpec([], tf.int32)
  draws = tf.map_fn(lambda seed: _draw(n, seed, permutation_set), seeds,
                    fn_output_signature=spec)
  orders, indices = _orders(draws, permutation_set)
  return {"patches": tf.gather(patches, orders, batch_dims=1),
          "ranks": orders + 1, "permutation_index": indices}


def identity(patches: tf.Tensor) -> Dict[str, tf.Tensor]:
  """The unshuffled example of the downstream task, in `shuffle`'s format."""
  n = patches.shape[0]
  return {"patches": patches, "ranks": tf.range(1, n + 1, dtype=tf.int32),
          "permutation_index": tf.constant(-1, tf.int32)}


def unshuffle(shuffled: tf.Tensor, ranks: tf.Tensor) -> tf.Tensor:
  """Puts shuffled patches [..., n, *patch_shape] back in order by ranks [..., n]."""
  ranks = tf.convert_to_tensor(ranks)
  order = tf.argsort(ranks, axis=-1, stable=True)
  return tf.gather(shuffled, order, batch_dims=ranks.shape.rank - 1)
