"""Tests for s2l/precision.py, and what mixed precision promises the ranking
ops: on bfloat16 inputs they agree with float32 to bfloat16 precision."""

import numpy as np
import pytest
import tensorflow as tf

from s2l import precision
from s2l import ranking

# One bfloat16 step at 1 (8 significant bits).
BF16_EPS = 2.0**-7


def test_the_policy_holds_inside_the_block_only():
  assert tf.keras.mixed_precision.global_policy().name == "float32"
  with precision.policy("mixed_bfloat16") as policy:
    assert policy.compute_dtype == "bfloat16"
    assert policy.variable_dtype == "float32"
    layer = tf.keras.layers.Dense(2)
  assert tf.keras.mixed_precision.global_policy().name == "float32"
  # The layer keeps the policy it was built under.
  assert layer(tf.ones([1, 3])).dtype == tf.bfloat16
  with pytest.raises(RuntimeError, match="inside"):
    with precision.policy("mixed_float16"):
      raise RuntimeError("inside")
  assert tf.keras.mixed_precision.global_policy().name == "float32"


def test_the_previous_policy_is_put_back_not_float32():
  tf.keras.mixed_precision.set_global_policy("mixed_bfloat16")
  try:
    with precision.policy("float32"):
      assert tf.keras.mixed_precision.global_policy().name == "float32"
    assert tf.keras.mixed_precision.global_policy().name == "mixed_bfloat16"
  finally:
    tf.keras.mixed_precision.set_global_policy("float32")


def test_only_float16_scales_the_loss():
  for name in ("float32", "mixed_bfloat16"):
    adam = tf.keras.optimizers.Adam()
    assert precision.optimizer(adam, name) is adam
  scaled = precision.optimizer(tf.keras.optimizers.Adam(0.5), "mixed_float16")
  assert isinstance(scaled, tf.keras.mixed_precision.LossScaleOptimizer)
  assert scaled.dynamic
  assert float(scaled.learning_rate) == 0.5


@pytest.mark.parametrize("bad", ["bfloat16", "float16", "Float32", None, 32])
def test_unknown_precisions_name_the_allowed_ones(bad):
  message = ("train.precision must be one of 'float32', 'mixed_float16', "
             f"'mixed_bfloat16', got {bad!r}.")
  with pytest.raises(ValueError, match=message.replace("(", r"\(")):
    precision.check("train", "precision", bad)
  with pytest.raises(ValueError, match="policy.precision must be one of"):
    with precision.policy(bad):
      pass
  assert tf.keras.mixed_precision.global_policy().name == "float32"


def _scores(shape, seed):
  """Scores with gaps of about one (as a trained CFN's), float32."""
  rng = np.random.default_rng(seed)
  return tf.constant(rng.normal(scale=3.0, size=shape), tf.float32)


@pytest.mark.parametrize("regularization", ["l2", "kl"])
@pytest.mark.parametrize("op", [ranking.soft_rank, ranking.soft_sort])
def test_soft_ops_on_bfloat16_match_float32_to_its_precision(op,
                                                             regularization):
  theta = _scores((8, 10), 0)
  rounded = tf.cast(theta, tf.bfloat16)
  with tf.GradientTape(persistent=True) as tape:
    tape.watch([theta, rounded])
    exact = op(theta, 1.0, regularization)
    half = op(rounded, 1.0, regularization)
    weights = tf.range(1.0, 11.0)
    exact_total = tf.reduce_sum(exact * weights)
    half_total = tf.reduce_sum(tf.cast(half, tf.float32) * weights)
  assert half.dtype == tf.bfloat16
  scale = float(tf.reduce_max(tf.abs(exact)))
  # The inputs' rounding and the outputs' (half a step each): within one
  # bfloat16 step of the outputs' scale (0.43 of one is seen).
  np.testing.assert_allclose(tf.cast(half, tf.float32).numpy(), exact.numpy(),
                             rtol=0, atol=BF16_EPS * scale)
  # Gradients: the same blocks, so the same Jacobian up to rounding.
  exact_grad = tape.gradient(exact_total, theta).numpy()
  half_grad = tf.cast(tape.gradient(half_total, rounded), tf.float32).numpy()
  np.testing.assert_allclose(half_grad, exact_grad, rtol=2 * BF16_EPS,
                             atol=2 * BF16_EPS * np.abs(exact_grad).max())


def test_hard_and_perturbed_ranks_of_bfloat16_scores_match_float32():
  # Gaps of 0.25 survive bfloat16 rounding of values below 8 exactly.
  theta = tf.constant(np.random.default_rng(1).permutation(20).reshape(2, 10)
                      * 0.25 + 0.1, tf.float32)
  np.testing.assert_array_equal(
      tf.cast(ranking.rank(tf.cast(theta, tf.bfloat16)), tf.float32).numpy(),
      ranking.rank(theta).numpy())
  # The losses widen half-precision scores to float32 before perturbing
  # them (s2l.losses): only the scores' rounding differs, which flips a few
  # of the 200 samples' ranks.
  theta = _scores((8, 10), 2)
  widened = tf.cast(tf.cast(theta, tf.bfloat16), tf.float32)
  exact = ranking.perturbed_rank(theta, 0.1, 200, seed=3)
  np.testing.assert_allclose(
      ranking.perturbed_rank(widened, 0.1, 200, seed=3).numpy(),
      exact.numpy(), atol=0.1)
  # perturbed_rank itself draws and ranks in float32 on bfloat16 scores, as
  # the soft ops do, and returns bfloat16.
  half = ranking.perturbed_rank(tf.cast(theta, tf.bfloat16), 0.1, 200, seed=3)
  assert half.dtype == tf.bfloat16
  np.testing.assert_allclose(
      tf.cast(half, tf.float32).numpy(),
      ranking.perturbed_rank(widened, 0.1, 200, seed=3).numpy(),
      rtol=BF16_EPS, atol=BF16_EPS)
