"""The upstream training model: a network, a pretext loss, ranking metrics.

`PretextModel` wraps a network (the CFN) so that `fit()` trains it on
`(shuffled patches, ranks)` batches with a loss of `s2l.losses`, and reports
the paper's upstream metrics (partial ranks, exact permutation) on the ranks
that the loss decodes from the network output (section 3). Batches are
`(shuffled patches, ranks)`, or raw batches that an input layer
(`s2l.data.model_inputs.PretextInputs`) turns into them at the start of each
step, on the accelerator.
"""

from typing import Optional

import tensorflow as tf

from s2l import losses
from s2l import metrics


class PretextModel(tf.keras.Model):
  """Trains `network` on the permutation pretext task.

  Args:
    network: maps patches [B, n, ...] to scores [B, n] (or logits [B, L] for
      the fixed-permutation baseline).
    pretext_loss: a `losses.PermutationLoss`; it also decodes the network's
      output into predicted ranks for the metrics.
    pretext_inputs: None when batches are (patches, ranks); else a layer
      without weights mapping each raw batch to (patches, ranks), run in the
      training and evaluation steps, outside the gradient tape.
  """

  def __init__(self, network: tf.keras.Model,
               pretext_loss: losses.PermutationLoss,
               pretext_inputs: Optional[tf.keras.layers.Layer] = None,
               **kwargs):
    super().__init__(**kwargs)
    self.network = network
    self.pretext_loss = pretext_loss
    self.pretext_inputs = pretext_inputs
    self.rank_metrics = [metrics.PartialRanksAccuracy(),
                         metrics.ExactPermutationAccuracy()]
    self.loss_tracker = tf.keras.metrics.Mean(name="loss")

  def call(self, patches, training=False):
    return self.network(patches, training=training)

  @property
  def metrics(self):
    return [self.loss_tracker] + self.rank_metrics

  def _update_metrics(self, ranks, outputs, loss):
    self.loss_tracker.update_state(loss)
    predicted = self.pretext_loss.predicted_ranks(outputs)
    for metric in self.rank_metrics:
      metric.update_state(ranks, predicted)
    return {m.name: m.result() for m in self.metrics}

  def _loss(self, ranks, outputs):
    # The per-replica mean over the global batch, so that gradients summed
    # across replicas equal the single-device gradient.
    per_example = self.pretext_loss.call(ranks, outputs)
    global_batch = tf.cast(tf.shape(per_example)[0], per_example.dtype) * \
        tf.distribute.get_strategy().num_replicas_in_sync
    loss = tf.reduce_sum(per_example) / global_batch
    if self.network.losses:
      loss += tf.add_n(self.network.losses) / \
          tf.distribute.get_strategy().num_replicas_in_sync
    return loss

  def _patches_and_ranks(self, data):
    if self.pretext_inputs is None:
      return data
    return self.pretext_inputs(data)

  def train_step(self, data):
    patches, ranks = self._patches_and_ranks(data)
    with tf.GradientTape() as tape:
      outputs = self.network(patches, training=True)
      loss = self._loss(ranks, outputs)
    self.optimizer.minimize(loss, self.network.trainable_variables, tape=tape)
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return self._update_metrics(ranks, outputs, loss * replicas)

  def test_step(self, data):
    patches, ranks = self._patches_and_ranks(data)
    outputs = self.network(patches, training=False)
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return self._update_metrics(ranks, outputs,
                                self._loss(ranks, outputs) * replicas)
