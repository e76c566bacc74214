"""Tests for s2l/pretext_model.py."""

import numpy as np
import tensorflow as tf

from s2l import losses
from s2l import pretext_model


class Echo(tf.keras.Model):
  """Outputs the first feature of each patch: the scores are the inputs."""

  def call(self, patches, training=False):
    del training
    return patches[:, :, 0]


def test_metrics_read_the_ranks_decoded_by_the_loss():
  ranks = np.array([[1, 2, 3], [3, 1, 2]], np.int32)
  right = ranks[..., None].astype(np.float32)  # scores ordered as the ranks
  model = pretext_model.PretextModel(Echo(), losses.RankMSELoss())
  model.compile("sgd")
  result = model.evaluate(right, ranks, verbose=0, return_dict=True)
  assert result == {"loss": 0.0, "partial_ranks": 1.0,
                    "exact_permutation": 1.0}
  wrong = np.array([[[1.0], [3.0], [2.0]], [[3.0], [1.0], [2.0]]],
                   np.float32)
  result = model.evaluate(wrong, ranks, verbose=0, return_dict=True)
  np.testing.assert_allclose(result["partial_ranks"], (1 / 3 + 1) / 2)
  np.testing.assert_allclose(result["exact_permutation"], 0.5)
  np.testing.assert_allclose(result["loss"], (2 / 3 + 0) / 2)


def test_fixed_permutation_outputs_are_decoded_through_the_set():
  loss = losses.FixedPermutationLoss(3, num_permutations=6)
  table = loss.permutation_set.permutations
  logits = np.eye(6, dtype=np.float32)[[2, 5]] * 10
  model = pretext_model.PretextModel(
      tf.keras.Sequential([tf.keras.layers.Lambda(lambda x: x)]), loss)
  model.compile("sgd")
  result = model.evaluate(logits, table[[2, 4]], verbose=0, return_dict=True)
  np.testing.assert_allclose(result["exact_permutation"], 0.5)


def test_training_reduces_the_loss():
  tf.keras.utils.set_random_seed(1)
  rng = np.random.default_rng(0)
  ranks = np.stack([rng.permutation(5) + 1 for _ in range(256)])
  x = (ranks[..., None] + rng.normal(size=(256, 5, 1)) * 0.1).astype(
      np.float32)
  network = tf.keras.Sequential([tf.keras.layers.Flatten(),
                                 tf.keras.layers.Dense(5)])
  model = pretext_model.PretextModel(network,
                                     losses.PerturbedFenchelYoungLoss())
  model.compile(tf.keras.optimizers.Adam(0.05))
  history = model.fit(x, ranks, epochs=5, batch_size=32, verbose=0)
  assert history.history["loss"][-1] < history.history["loss"][0] / 2
  assert history.history["partial_ranks"][-1] > 0.8


class Unpack(tf.keras.layers.Layer):
  """Raw batches {"x": scores, "order": ranks − 1} to (scores, ranks)."""

  def call(self, inputs):
    return inputs["x"], inputs["order"] + 1


def test_an_input_layer_makes_the_batches_of_both_steps():
  ranks = np.array([[1, 2, 3], [3, 1, 2]], np.int32)
  wrong = np.array([[[1.0], [3.0], [2.0]], [[3.0], [1.0], [2.0]]],
                   np.float32)
  plain = pretext_model.PretextModel(Echo(), losses.RankMSELoss())
  placed = pretext_model.PretextModel(Echo(), losses.RankMSELoss(), Unpack())
  for model in (plain, placed):
    model.compile("sgd")
  raw = tf.data.Dataset.from_tensors({"x": wrong, "order": ranks - 1})
  expected = plain.evaluate(wrong, ranks, verbose=0, return_dict=True)
  assert placed.evaluate(raw, verbose=0, return_dict=True) == expected
  np.testing.assert_allclose(expected["partial_ranks"], (1 / 3 + 1) / 2)
  # The training step too (Echo has no weights: the metrics are the same).
  history = placed.fit(raw, epochs=1, verbose=0).history
  assert history["partial_ranks"] == [expected["partial_ranks"]]
