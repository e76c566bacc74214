"""Upstream metrics of the permutation pretext task (paper section 3).

The paper reports "Partial Ranks", the proportion of patches ranked in their
correct position; this module holds it along with the exact-permutation
accuracy and two rank correlations (Spearman's rho, Kendall's tau), first as
pure functions on tensors, then as Keras metrics that average them.

Conventions (as in `s2l.ranking`): `y_true: [..., n]` holds true ranks 1..n,
where `y_true[i]` is the 1-based position of shuffled patch i in the original
order. `y_pred: [..., n]` holds predicted scores in the same layout; they are
turned into hard predicted ranks with `s2l.ranking.rank`, ascending (the
smallest score gets rank 1, ties go to the earlier position). Rank vectors
such as `FixedPermutationSet.decode` outputs are valid scores and map to
themselves. `n` must be known statically.

Every function returns one value per example, `[...]`, in float64 when
`y_pred` is float64 and float32 otherwise. A row of `y_pred` holding NaN or
inf has NaN predicted ranks: the accuracies count it as wrong (0.0) and the
correlations return NaN, so a diverged model shows up in their means.
"""

import tensorflow as tf

from s2l import ranking


def _ranks(y_true, y_pred):
  """Returns (true ranks, predicted hard ranks), both [..., n], same float."""
  y_pred = tf.convert_to_tensor(y_pred)
  dtype = tf.float64 if y_pred.dtype == tf.float64 else tf.float32
  # Half-precision scores are widened losslessly before ranking, so that the
  # ranks 1..n stay exact and the output dtype rule above holds.
  pred_ranks = ranking.rank(tf.cast(y_pred, dtype))
  true_ranks = tf.cast(y_true, dtype)
  true_ranks.shape.assert_is_compatible_with(pred_ranks.shape)
  return true_ranks, pred_ranks


def partial_ranks_accuracy(y_true, y_pred) -> tf.Tensor:
  """Fraction of the n items whose predicted rank is the true rank.

  Args:
    y_true: [..., n] true ranks 1..n, any numeric dtype.
    y_pred: [..., n] predicted scores.

  Returns:
    [...] values in [0, 1].
  """
  true_ranks, pred_ranks = _ranks(y_true, y_pred)
  return tf.reduce_mean(
      tf.cast(tf.equal(pred_ranks, true_ranks), true_ranks.dtype), axis=-1)


def exact_permutation_accuracy(y_true, y_pred) -> tf.Tensor:
  """1.0 where the whole permutation is predicted correctly, else 0.0.

  Args:
    y_true: [..., n] true ranks 1..n, any numeric dtype.
    y_pred: [..., n] predicted scores.

  Returns:
    [...] values in {0, 1}.
  """
  true_ranks, pred_ranks = _ranks(y_true, y_pred)
  return tf.cast(
      tf.reduce_all(tf.equal(pred_ranks, true_ranks), axis=-1),
      true_ranks.dtype)


def spearman_correlation(y_true, y_pred) -> tf.Tensor:
  """Spearman's rho: the Pearson correlation of predicted and true ranks.

  For permutations this is `1 - 6 * sum(d**2) / (n * (n**2 - 1))` with `d`
  the rank differences; the Pearson form is used so that ties in `y_true`
  would still give the standard value. Defined as 1.0 for n = 1.

  Args:
    y_true: [..., n] true ranks 1..n, any numeric dtype.
    y_pred: [..., n] predicted scores.

  Returns:
    [...] values in [-1, 1].
  """
  true_ranks, pred_ranks = _ranks(y_true, y_pred)
  if pred_ranks.shape[-1] == 1:
    return tf.ones_like(pred_ranks[..., 0])
  true_c = true_ranks - tf.reduce_mean(true_ranks, axis=-1, keepdims=True)
  pred_c = pred_ranks - tf.reduce_mean(pred_ranks, axis=-1, keepdims=True)
  covariance = tf.reduce_sum(true_c * pred_c, axis=-1)
  return covariance / tf.sqrt(
      tf.reduce_sum(true_c**2, axis=-1) * tf.reduce_sum(pred_c**2, axis=-1))


def kendall_tau(y_true, y_pred) -> tf.Tensor:
  """Kendall's tau: (concordant - discordant pairs) / (n * (n - 1) / 2).

  All n * (n - 1) / 2 pairs are compared at once, in O(n²) memory per
  example. Predicted ranks have no ties, so for permutations this is
  tau-a = tau-b. Defined as 1.0 for n = 1.

  Args:
    y_true: [..., n] true ranks 1..n, any numeric dtype.
    y_pred: [..., n] predicted scores.

  Returns:
    [...] values in [-1, 1].
  """
  true_ranks, pred_ranks = _ranks(y_true, y_pred)
  n = pred_ranks.shape[-1]
  if n == 1:
    return tf.ones_like(pred_ranks[..., 0])

  def pairwise_sign(x):  # [..., n] -> [..., n, n]
    return tf.sign(x[..., :, None] - x[..., None, :])

  # Summing over the full matrix counts every unordered pair twice (the
  # diagonal contributes 0), hence n * (n - 1) rather than half of it.
  agreement = tf.reduce_sum(
      pairwise_sign(true_ranks) * pairwise_sign(pred_ranks), axis=[-2, -1])
  return agreement / (n * (n - 1))


# Keras 2.15 leaves `fn` out of a MeanMetricWrapper subclass's config, so the
# inherited get_config/from_config round-trip these as `cls(name, dtype)`.
# Registering them lets saved models that were compiled with them reload.


@tf.keras.utils.register_keras_serializable(package='s2l')
class PartialRanksAccuracy(tf.keras.metrics.MeanMetricWrapper):
  """Mean `partial_ranks_accuracy`: the paper's "Partial Ranks"."""

  def __init__(self, name='partial_ranks', dtype=None):
    super().__init__(partial_ranks_accuracy, name=name, dtype=dtype)


@tf.keras.utils.register_keras_serializable(package='s2l')
class ExactPermutationAccuracy(tf.keras.metrics.MeanMetricWrapper):
  """Mean `exact_permutation_accuracy`."""

  def __init__(self, name='exact_permutation', dtype=None):
    super().__init__(exact_permutation_accuracy, name=name, dtype=dtype)


@tf.keras.utils.register_keras_serializable(package='s2l')
class SpearmanCorrelation(tf.keras.metrics.MeanMetricWrapper):
  """Mean `spearman_correlation`."""

  def __init__(self, name='spearman', dtype=None):
    super().__init__(spearman_correlation, name=name, dtype=dtype)


@tf.keras.utils.register_keras_serializable(package='s2l')
class KendallTau(tf.keras.metrics.MeanMetricWrapper):
  """Mean `kendall_tau`."""

  def __init__(self, name='kendall_tau', dtype=None):
    super().__init__(kendall_tau, name=name, dtype=dtype)
