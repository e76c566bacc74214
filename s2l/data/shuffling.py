"""On-the-fly permutations of an example's patches (paper section 2.1, figure 2).

Label convention (as in `s2l.ranking`): for shuffled patch i, `ranks[i]` is its
1-based position in the original order, so

    shuffled[i] = patches[ranks[i] − 1]   and   patches = unshuffle(shuffled, ranks).

These are the ranks that the ranking losses take as y_true. Permutations are
drawn with stateless random ops from a per-example seed, inside the tf.data
graph: reproducible, and new at every epoch when the seed folds in the epoch.
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
  keys = tf.random.stateless_uniform([n], seed, minval=None, maxval=None,
                                     dtype=tf.int64)
  return tf.argsort(keys, stable=True)


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
  if n is None:
    raise ValueError("the number of patches must be static, got shape "
                     f"{patches.shape}.")
  if permutation_set is None:
    order = uniform_permutation(n, seed)
    index = tf.constant(-1, tf.int32)
  else:
    if permutation_set.num_items != n:
      raise ValueError(
          f"the fixed permutation set orders {permutation_set.num_items} "
          f"items but the input has {n} patches; build the set with "
          f"num_items={n}.")
    index = tf.random.stateless_uniform(
        [], seed, 0, permutation_set.num_permutations, dtype=tf.int32)
    order = permutation_set.ranks_of(index) - 1
  return {"patches": tf.gather(patches, order), "ranks": order + 1,
          "permutation_index": index}


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
