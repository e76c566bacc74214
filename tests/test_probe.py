"""Tests for s2l/probe.py."""

import numpy as np
import pytest
import tensorflow as tf

from s2l import precision
from s2l import probe
from s2l.data import sources

CLASSIFY = sources.Task("c", "classification", ("c",), 3)
REGRESS = sources.Task("r", "regression", ("r",))
MULTI = sources.Task("m", "multilabel", ("m",), 2)


def test_metrics_on_hand_made_predictions():
  logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 0.5],
                     [0.0, 0.0, 1.0]])
  assert probe.score(CLASSIFY, np.array([0, 1, 2, 2]), logits) == 0.75
  assert probe.score(REGRESS, np.array([1.0, 2.0, 3.0]),
                     np.array([[1.0], [4.0], [2.0]])) == pytest.approx(5 / 3)
  # Class 0: positives score 0.9, 0.4; negatives 0.5, 0.1: 3 of 4 pairs.
  # Class 1: perfectly separated: 1.0. Mean AUC 0.875.
  labels = np.array([[1, 0], [1, 1], [0, 1], [0, 0]], np.float32)
  scores = np.array([[0.9, -1.0], [0.4, 2.0], [0.5, 1.0], [0.1, 0.0]])
  assert probe.score(MULTI, labels, scores) == pytest.approx(0.875)
  # Micro: all 8 (example, class) pairs pooled; positives 0.9, 0.4, 2.0,
  # 1.0 against negatives -1.0, 0.5, 0.1, 0.0: all but (0.4, 0.5) won.
  assert probe.scores(MULTI, labels, scores) == pytest.approx(
      {"mean_auc": 0.875, "micro_auc": 15 / 16})
  assert probe.scores(CLASSIFY, np.array([0, 1, 2, 2]), logits) == {
      "accuracy": 0.75}
  assert probe.roc_auc(np.array([1, 0]), np.array([0.3, 0.3])) == 0.5


def test_heads():
  mlp = probe.make_head("mlp", 4, hidden_units=8)
  mlp.build((None, 5))
  assert [type(l).__name__ for l in mlp.layers] == ["Dense"] * 3
  linear = probe.make_head("linear", 1)
  linear.build((None, 5))
  assert len(linear.layers) == 1
  with pytest.raises(ValueError, match="head must be one of"):
    probe.make_head("transformer", 2)


def _toy(rng, n):
  x = rng.normal(size=(n, 6)).astype(np.float32)
  return x, x[:, 0] + 2 * x[:, 1]


def test_heads_learn_toy_tasks():
  rng = np.random.default_rng(0)
  x, z = _toy(rng, 600)
  xt, zt = _toy(rng, 300)
  classes = lambda v: np.digitize(v, [-1.0, 1.0])
  assert probe.train_head(CLASSIFY, "linear", (x, classes(z)),
                          (xt, classes(zt)), seed=0, epochs=40,
                          learning_rate=1e-2)["accuracy"] > 0.9
  # Targets far from zero, as MIDI pitches are: standardised internally.
  mse = probe.train_head(REGRESS, "mlp", (x, 60 + 5 * z), (xt, 60 + 5 * zt),
                         seed=0, epochs=40, hidden_units=32)["mse"]
  assert mse < 0.1 * np.var(5 * zt)
  multi = np.stack([z > 0, x[:, 2] > 0], -1).astype(np.float32)
  multi_t = np.stack([zt > 0, xt[:, 2] > 0], -1).astype(np.float32)
  aucs = probe.train_head(MULTI, "linear", (x, multi), (xt, multi_t),
                          seed=0, epochs=40, learning_rate=1e-2)
  assert aucs["mean_auc"] > 0.95 and aucs["micro_auc"] > 0.95


def test_dead_units_do_not_blow_up_test_inputs():
  rng = np.random.default_rng(1)
  x, z = _toy(rng, 200)
  xt, zt = _toy(rng, 100)
  x[:, 5] = 0.0  # Dead on the training examples, alive on the test ones.
  xt[:, 5] = 50.0
  mse = probe.train_head(REGRESS, "linear", (x, z), (xt, zt), seed=0,
                         epochs=40)["mse"]
  assert mse < 1e4
  # Almost dead: on for one training example, then far out on test ones.
  x[0, 5] = 1e-3
  xt[:, 5] = 10.0
  mse = probe.train_head(REGRESS, "mlp", (x, z), (xt, zt), seed=0,
                         epochs=40, hidden_units=32)["mse"]
  assert mse < np.var(zt)


def test_head_inputs_standardise_and_decode():
  x = np.array([[1.0, 5.0], [3.0, 5.0]])
  xt = np.array([[2.0, 7.0]])
  inputs = probe.head_inputs(REGRESS, (x, np.array([60.0, 64.0])),
                             (xt, np.array([62.0])))
  # Unit 0: mean 2, spread 1; unit 1 is constant (dead) and keeps its scale.
  np.testing.assert_allclose(inputs.train, [[-1.0, 0.0], [1.0, 0.0]])
  np.testing.assert_allclose(inputs.test, [[0.0, 2.0]])
  np.testing.assert_allclose(inputs.targets, [-1.0, 1.0])
  np.testing.assert_allclose(inputs.decode(np.array([[0.5]])), [[63.0]])
  raw = probe.head_inputs(CLASSIFY, (x, np.array([0, 2])),
                          (xt, np.array([1])), standardize=False)
  np.testing.assert_array_equal(raw.test, xt)
  np.testing.assert_array_equal(raw.targets, [0, 2])
  np.testing.assert_array_equal(raw.decode(np.ones((1, 3))), np.ones((1, 3)))


def test_callbacks_watch_the_head_without_changing_its_scores():
  rng = np.random.default_rng(3)
  x, z = _toy(rng, 200)
  xt, zt = _toy(rng, 100)
  inputs = probe.head_inputs(REGRESS, (x, z), (xt, zt))
  seen = []

  class Watch(tf.keras.callbacks.Callback):

    def on_epoch_end(self, epoch, logs=None):
      outputs = self.model.predict(inputs.test, verbose=0)
      seen.append(probe.scores(REGRESS, zt, inputs.decode(outputs))["mse"])

  kwargs = dict(seed=0, epochs=5, hidden_units=16)
  plain = probe.train_head(REGRESS, "mlp", (x, z), (xt, zt), **kwargs)
  watched = probe.train_head(REGRESS, "mlp", (x, z), (xt, zt),
                             callbacks=[Watch()], **kwargs)
  assert len(seen) == 5 and seen[-1] < seen[0]
  # The last epoch's head is the one scored, with or without the watcher.
  assert watched["mse"] == pytest.approx(plain["mse"], rel=1e-5)
  assert seen[-1] == pytest.approx(watched["mse"], rel=1e-5)


def _toy_encoder() -> tf.keras.Model:
  """[B, 3, 2] -> [B, 4], in the global dtype policy."""
  encoder = tf.keras.Sequential([tf.keras.layers.Flatten(),
                                 tf.keras.layers.Dense(4, activation="relu")])
  encoder.build((None, 3, 2))
  return encoder


def _separable_batches() -> tf.data.Dataset:
  """64 inputs [3, 2], labelled by the sign of their first entry."""
  rng = np.random.default_rng(2)
  x = rng.normal(size=(64, 3, 2)).astype(np.float32)
  y = (x[:, 0, 0] > 0).astype(np.int32)
  return tf.data.Dataset.from_tensor_slices((x, y)).batch(16)


def test_supervised_baseline_leaves_the_given_encoder_untouched():
  encoder = _toy_encoder()
  before = [w.copy() for w in encoder.get_weights()]
  ds = _separable_batches()
  accuracy = probe.train_supervised(
      sources.Task("c", "classification", ("c",), 2), encoder, "linear", ds,
      ds, seed=0, epochs=30, learning_rate=1e-2)["accuracy"]
  assert accuracy > 0.8
  for old, new in zip(before, encoder.get_weights()):
    np.testing.assert_array_equal(old, new)


def test_supervised_baseline_of_a_float16_encoder_scales_its_loss(
    monkeypatch):
  with precision.policy("mixed_float16"):
    encoder = _toy_encoder()
  optimizers = []
  original_fit = tf.keras.Model.fit

  def fit(self, *args, **kwargs):
    optimizers.append(self.optimizer)
    return original_fit(self, *args, **kwargs)

  monkeypatch.setattr(tf.keras.Model, "fit", fit)
  ds = _separable_batches()
  accuracy = probe.train_supervised(
      sources.Task("c", "classification", ("c",), 2), encoder, "linear", ds,
      ds, seed=0, epochs=30, learning_rate=1e-2,
      precision="mixed_float16")["accuracy"]
  assert accuracy > 0.8
  assert isinstance(optimizers[0], tf.keras.mixed_precision.LossScaleOptimizer)


def test_labelled_subsets_are_random_per_seed_and_stratified():
  # A pool sorted by class, as a manifest sorted by instrument would be.
  labels = np.repeat(np.arange(4), [500, 300, 150, 50])
  subsets = [probe.labelled_subset(CLASSIFY, labels, 100, seed)
             for seed in range(3)]
  for subset in subsets:
    assert len(subset) == len(set(subset)) == 100
    # Each class in proportion to its share of the pool: 50, 30, 15, 5.
    np.testing.assert_array_equal(np.bincount(labels[subset], minlength=4),
                                  [50, 30, 15, 5])
  assert not np.array_equal(subsets[0], subsets[1])
  np.testing.assert_array_equal(
      subsets[0], probe.labelled_subset(CLASSIFY, labels, 100, 0))
  # Regression draws uniformly; "first" is the old protocol.
  values = np.linspace(0.0, 1.0, 1000)
  uniform = probe.labelled_subset(REGRESS, values, 200, 0)
  assert len(set(uniform)) == 200 and 0.3 < values[uniform].mean() < 0.7
  np.testing.assert_array_equal(
      probe.labelled_subset(CLASSIFY, labels, 10, 5, how="first"),
      np.arange(10))
  with pytest.raises(ValueError, match="cannot draw 1001 labelled examples"):
    probe.labelled_subset(CLASSIFY, labels, 1001, 0)
  with pytest.raises(ValueError, match="labelled subsets must be one of"):
    probe.labelled_subset(CLASSIFY, labels, 10, 0, how="last")


def test_unstandardised_probe_sees_the_raw_scale():
  rng = np.random.default_rng(3)
  x, z = _toy(rng, 300)
  xt, zt = _toy(rng, 100)
  scale = np.array([1e4, 1e4, 1, 1, 1, 1], np.float32)
  standardised = probe.train_head(REGRESS, "linear", (x * scale, z),
                                  (xt * scale, zt), seed=0, epochs=30,
                                  learning_rate=1e-2)["mse"]
  raw = probe.train_head(REGRESS, "linear", (x * scale, z), (xt * scale, zt),
                         seed=0, epochs=30, learning_rate=1e-2,
                         standardize=False)["mse"]
  # Inputs of scale 1e4 at this learning rate: the raw head cannot fit.
  assert standardised < 0.1 * np.var(zt) < raw


def test_a_head_chosen_on_a_selection_set_is_kept_at_its_best_epoch():
  # 24 noisy training examples: the MLP fits their noise, and its score on
  # clean selection and test sets peaks before its last epoch.
  rng = np.random.default_rng(0)
  x, z = _toy(rng, 24)
  z = z + rng.normal(0, 2.0, size=z.shape)
  xs, zs = _toy(rng, 200)
  xt, zt = _toy(rng, 200)
  inputs = probe.head_inputs(REGRESS, (x, z), (xt, zt))
  seen = {}

  class Watch(tf.keras.callbacks.Callback):

    def on_epoch_end(self, epoch, logs=None):
      if (epoch + 1) % probe.SELECT_EVERY == 0:
        seen[epoch + 1] = [
            probe.score(REGRESS, labels, inputs.decode(
                self.model.predict(inputs.prepare(e), verbose=0)))
            for e, labels in ((xs, zs), (xt, zt))]

  # Batches of 8: the head sees its examples in a shuffled order, which
  # watching the selection set must not change.
  kwargs = dict(seed=0, epochs=60, hidden_units=256, learning_rate=1e-2,
                batch_size=8)
  chosen = probe.train_head(REGRESS, "mlp", (x, z), (xt, zt),
                            callbacks=[Watch()], select_on=(xs, zs), **kwargs)
  last = probe.train_head(REGRESS, "mlp", (x, z), (xt, zt), **kwargs)
  assert probe.HEAD_EPOCH not in last
  assert sorted(seen) == list(range(5, 61, 5))
  # The epoch kept is the one of the best selection score...
  best = min(seen, key=lambda epoch: seen[epoch][0])
  assert chosen[probe.HEAD_EPOCH] == best < 60
  # ... and its test score is that head's, better here than the last one's.
  assert chosen["mse"] == pytest.approx(seen[best][1], rel=1e-5)
  assert chosen["mse"] < seen[60][1]
  assert last["mse"] == pytest.approx(seen[60][1], rel=1e-5)


def test_a_classification_head_is_chosen_on_its_highest_accuracy():
  rng = np.random.default_rng(1)
  x, z = _toy(rng, 30)
  xs, zs = _toy(rng, 100)
  classes = lambda v: np.digitize(v, [-0.5, 0.5])
  noisy = classes(z)
  noisy[::3] = (noisy[::3] + 1) % 3  # a third of the labels wrong
  chosen = probe.train_head(CLASSIFY, "mlp", (x, noisy), (xs, classes(zs)),
                            seed=0, epochs=12, hidden_units=64,
                            select_on=(xs, classes(zs)))
  # Scored on the selection set itself, the kept head is at least as good
  # as every head it was compared with, the last one included.
  last = probe.train_head(CLASSIFY, "mlp", (x, noisy), (xs, classes(zs)),
                          seed=0, epochs=12, hidden_units=64)
  assert chosen[probe.HEAD_EPOCH] in (5, 10, 12)
  assert chosen["accuracy"] >= last["accuracy"] - 1e-9
