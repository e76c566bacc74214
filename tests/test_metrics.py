"""Tests for s2l/metrics.py."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from s2l import metrics

FUNCTIONS = (metrics.partial_ranks_accuracy, metrics.exact_permutation_accuracy,
             metrics.spearman_correlation, metrics.kendall_tau)
CLASSES = (metrics.PartialRanksAccuracy, metrics.ExactPermutationAccuracy,
           metrics.SpearmanCorrelation, metrics.KendallTau)


def _values(y_true, y_pred):
  return [float(fn(y_true, y_pred)) for fn in FUNCTIONS]


# --- Hand-computed values -----------------------------------------------------


def test_one_swap_of_four():
  # Scores rank as [2, 1, 3, 4]: items 0 and 1 swapped. d² sums to 2, and of
  # the 6 pairs only (0, 1) is discordant.
  values = _values([1, 2, 3, 4], [0.5, 0.1, 0.7, 0.9])
  np.testing.assert_allclose(
      values, [0.5, 0.0, 1 - 6 * 2 / (4 * 15), (5 - 1) / 6], rtol=1e-6)


def test_reversed_order_of_three():
  # Ranks [3, 2, 1] against [1, 2, 3]: only the middle item is right.
  values = _values([1, 2, 3], [3.0, 2.0, 1.0])
  np.testing.assert_allclose(values, [1 / 3, 0.0, -1.0, -1.0], rtol=1e-6)


def test_scores_on_a_different_scale_that_rank_correctly():
  values = _values([3, 1, 2], [0.9, -10.0, 0.2])
  np.testing.assert_allclose(values, [1.0, 1.0, 1.0, 1.0], rtol=1e-6)


def test_three_cycle_of_four():
  # Ranks [2, 3, 1, 4] against [1, 2, 3, 4]: d = [1, 1, -2, 0], sum d² = 6;
  # discordant pairs (0, 2) and (1, 2), so (4 - 2) / 6.
  values = _values([1, 2, 3, 4], [2.0, 3.0, 1.0, 4.0])
  np.testing.assert_allclose(
      values, [0.25, 0.0, 1 - 6 * 6 / (4 * 15), 2 / 6], rtol=1e-6)


def test_tied_scores_rank_by_position():
  # All-equal scores rank as [1, 2, 3] (ties to the earlier position).
  np.testing.assert_allclose(_values([1, 2, 3], [0.0, 0.0, 0.0]), [1] * 4)
  np.testing.assert_allclose(
      _values([3, 2, 1], [0.0, 0.0, 0.0]), [1 / 3, 0.0, -1.0, -1.0],
      rtol=1e-6)


def test_single_item_is_one():
  for fn in FUNCTIONS:
    np.testing.assert_array_equal(fn([[1], [1]], [[0.3], [-2.0]]), [1.0, 1.0])


def test_batched_shapes():
  y_true = tf.constant([[[1, 2, 3]] * 2] * 4)  # [4, 2, 3]
  y_pred = tf.random.normal([4, 2, 3])
  for fn in FUNCTIONS:
    assert fn(y_true, y_pred).shape == (4, 2)


def test_non_finite_scores():
  y_true = [[1, 2, 3], [1, 2, 3]]
  y_pred = [[1.0, np.nan, 3.0], [1.0, 2.0, 3.0]]
  np.testing.assert_array_equal(
      metrics.partial_ranks_accuracy(y_true, y_pred), [0.0, 1.0])
  np.testing.assert_array_equal(
      metrics.exact_permutation_accuracy(y_true, y_pred), [0.0, 1.0])
  for fn in (metrics.spearman_correlation, metrics.kendall_tau):
    out = fn(y_true, y_pred).numpy()
    assert np.isnan(out[0]) and out[1] == 1.0


@pytest.mark.parametrize('pred_dtype, out_dtype', [
    (tf.float64, tf.float64),
    (tf.float32, tf.float32),
    (tf.float16, tf.float32),
    (tf.int32, tf.float32),
])
def test_output_dtype(pred_dtype, out_dtype):
  y_true = tf.constant([[2, 1, 3]], tf.int64)
  y_pred = tf.constant([[5, 1, 7]], pred_dtype)
  for fn in FUNCTIONS:
    out = fn(y_true, y_pred)
    assert out.dtype == out_dtype
    assert out.numpy()[0] == 1.0


def test_mismatched_shapes_raise():
  with pytest.raises(ValueError):
    metrics.partial_ranks_accuracy([[1, 2, 3]], [[0.1, 0.2]])


# --- Against independent references on random permutations -------------------


def _numpy_ranks(scores):
  """Ranks 1..n ascending along the last axis; scores have no ties here."""
  return np.argsort(np.argsort(scores, axis=-1), axis=-1) + 1


def _reference_kendall(a, b):
  n = len(a)
  if n == 1:
    return 1.0
  total = 0
  for i, j in itertools.combinations(range(n), 2):
    total += np.sign(a[i] - a[j]) * np.sign(b[i] - b[j])
  return total / (n * (n - 1) / 2)


def _reference_spearman(a, b):
  return np.corrcoef(a, b)[0, 1]


@pytest.mark.parametrize('n', [2, 5, 10])
@pytest.mark.parametrize('batch_shape', [[64], [8, 6]])
def test_matches_references(n, batch_shape):
  rng = np.random.default_rng(n)
  y_true = _numpy_ranks(rng.normal(size=batch_shape + [n]))
  y_pred = rng.normal(size=batch_shape + [n]).astype(np.float32)
  # Make a few rows exactly right so exact accuracy sees both outcomes.
  y_pred.reshape(-1, n)[:5] = y_true.reshape(-1, n)[:5]
  pred_ranks = _numpy_ranks(y_pred)
  flat_true, flat_pred = y_true.reshape(-1, n), pred_ranks.reshape(-1, n)

  expected = {
      metrics.partial_ranks_accuracy: (y_true == pred_ranks).mean(-1),
      metrics.exact_permutation_accuracy: (y_true == pred_ranks).all(-1),
      metrics.spearman_correlation: np.reshape(
          [_reference_spearman(a, b) for a, b in zip(flat_true, flat_pred)],
          batch_shape),
      metrics.kendall_tau: np.reshape(
          [_reference_kendall(a, b) for a, b in zip(flat_true, flat_pred)],
          batch_shape),
  }
  for fn, want in expected.items():
    got = fn(tf.constant(y_true, tf.int32), tf.constant(y_pred))
    assert got.shape == tuple(batch_shape), fn.__name__
    np.testing.assert_allclose(got, want, atol=1e-5, err_msg=fn.__name__)
  # The closed form for permutations agrees with the Pearson form.
  d2 = ((y_true - pred_ranks)**2).sum(-1)
  np.testing.assert_allclose(
      metrics.spearman_correlation(y_true, y_pred),
      1 - 6 * d2 / (n * (n**2 - 1)), atol=1e-5)


def test_inside_tf_function():
  fn = tf.function(metrics.kendall_tau)
  np.testing.assert_allclose(
      fn(tf.constant([[1, 2, 3, 4]]), tf.constant([[0.5, 0.1, 0.7, 0.9]])),
      [4 / 6], rtol=1e-6)


# --- Keras metrics ------------------------------------------------------------


@pytest.mark.parametrize('cls, name', [
    (metrics.PartialRanksAccuracy, 'partial_ranks'),
    (metrics.ExactPermutationAccuracy, 'exact_permutation'),
    (metrics.SpearmanCorrelation, 'spearman'),
    (metrics.KendallTau, 'kendall_tau'),
])
def test_default_names(cls, name):
  assert cls().name == name


def test_keras_metric_averages_over_batches_and_resets():
  metric = metrics.PartialRanksAccuracy()
  # Per-example values 0.5 and 1.0, then 0.25: the mean is over examples,
  # (0.5 + 1 + 0.25) / 3, not over batches.
  metric.update_state([[1, 2, 3, 4], [1, 2, 3, 4]],
                      [[0.5, 0.1, 0.7, 0.9], [1.0, 2.0, 3.0, 4.0]])
  np.testing.assert_allclose(metric.result(), 0.75, rtol=1e-6)
  metric.update_state([[1, 2, 3, 4]], [[2.0, 3.0, 1.0, 4.0]])
  np.testing.assert_allclose(metric.result(), 1.75 / 3, rtol=1e-6)
  metric.reset_state()
  assert metric.result().numpy() == 0.0
  metric.update_state([[1, 2, 3, 4]], [[2.0, 3.0, 1.0, 4.0]])
  np.testing.assert_allclose(metric.result(), 0.25, rtol=1e-6)


def test_keras_metric_sample_weight():
  metric = metrics.KendallTau()
  metric.update_state([[1, 2, 3], [1, 2, 3]],
                      [[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]],
                      sample_weight=[3.0, 1.0])
  np.testing.assert_allclose(metric.result(), (3 * 1 - 1) / 4, rtol=1e-6)


@pytest.mark.parametrize('cls', CLASSES)
def test_config_round_trip(cls):
  metric = cls(name='custom', dtype='float64')
  config = metric.get_config()
  assert config == {'name': 'custom', 'dtype': 'float64'}
  rebuilt = cls.from_config(config)
  assert type(rebuilt) is cls and rebuilt.get_config() == config
  assert rebuilt._fn is metric._fn
  # Registered, so Keras (de)serialisation finds the class by name.
  restored = tf.keras.metrics.deserialize(tf.keras.metrics.serialize(metric))
  assert type(restored) is cls and restored.get_config() == config


def test_in_model_compile_and_fit():
  n = 4
  rng = np.random.default_rng(0)
  x = rng.normal(size=(16, 8)).astype(np.float32)
  y = _numpy_ranks(rng.normal(size=(16, n))).astype(np.float32)
  tf.keras.utils.set_random_seed(0)
  model = tf.keras.Sequential([tf.keras.layers.Dense(n, input_shape=(8,))])
  model.compile(optimizer='sgd', loss='mse',
                metrics=[cls() for cls in CLASSES])
  history = model.fit(x, y, batch_size=16, epochs=1, verbose=0)
  assert {'partial_ranks', 'exact_permutation', 'spearman',
          'kendall_tau'} <= set(history.history)
  # Evaluation through Keras equals the mean of the functions on predictions.
  results = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
  scores = model.predict(x, verbose=0)
  for cls, fn in zip(CLASSES, FUNCTIONS):
    np.testing.assert_allclose(
        results[cls().name], np.mean(fn(y, scores)), atol=1e-6)
