"""Downstream probes of a frozen encoder (paper section 2.3, "Downstream task").

The pre-trained CFN is truncated at its first aggregate fully connected layer
(the `embedding` layer), frozen, and fed unshuffled patches; a low-capacity
head is trained on its embeddings: a 3-layer MLP for audio and video, a linear
classifier for images. Classification heads use softmax cross-entropy and
report accuracy, regression a scalar output with mean squared error, and
multi-label tasks (VOC) sigmoid outputs with two mean AUCs: over classes
(`mean_auc`, macro: each class's ROC AUC, averaged) and over all (example,
class) pairs pooled (`micro_auc`). The paper's table 4 gives two AUC figures,
"upper" and "lower", without defining them; s2l reports these two.

The embeddings of a frozen encoder do not change during probe training, so
they are computed once per split and the head trains on them directly.

A head is kept after its last epoch (the paper's protocol, and s2l's
default), or, given a selection set (`train_head`'s `select_on`: the
validation split's embeddings), at the epoch, among every
`SELECT_EVERY`-th, whose selection score was best: a head whose training loss
spikes in its last epochs then no longer decides the cell.
"""

import dataclasses
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from s2l import precision as precision_lib
from s2l.data import sources

HEADS = ("mlp", "linear")
# Standardised embeddings are clipped to ±CLIP. A unit that is almost always
# off on the training examples has a tiny spread, and a test example that
# turns it on lands thousands of spreads away: on the embedded notes, three
# such notes took a pitch probe's test MSE from 7.2 to 2862.
CLIP = 10.0

# The headline metric of each kind of task; `scores` may add others.
METRICS = {"classification": "accuracy", "regression": "mse",
           "multilabel": "mean_auc"}
# A head chosen on a selection set is scored on it every SELECT_EVERY epochs
# (and after its last).
SELECT_EVERY = 5
# The key of `train_head`'s result that holds the epoch it kept.
HEAD_EPOCH = "head_epoch"


def make_head(kind: str, num_outputs: int, hidden_units: int = 512,
              name: str = "probe_head") -> tf.keras.Sequential:
  """A head mapping embeddings [B, E] to outputs [B, num_outputs].

  Args:
    kind: "mlp" (three dense layers, ReLU between) or "linear".
    num_outputs: classes, or 1 for regression.
    hidden_units: width of the MLP's two hidden layers.
    name: model name.
  """
  if kind not in HEADS:
    raise ValueError(f"head must be one of {HEADS}, got {kind!r}.")
  layers = []
  if kind == "mlp":
    layers = [tf.keras.layers.Dense(hidden_units, activation="relu"),
              tf.keras.layers.Dense(hidden_units, activation="relu")]
  layers.append(tf.keras.layers.Dense(num_outputs))
  return tf.keras.Sequential(layers, name=name)


def num_outputs(task: sources.Task) -> int:
  return 1 if task.kind == "regression" else task.num_classes


def loss_for(task: sources.Task) -> tf.keras.losses.Loss:
  """Softmax cross-entropy, mean squared error or sigmoid cross-entropy."""
  if task.kind == "classification":
    return tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
  if task.kind == "regression":
    return tf.keras.losses.MeanSquaredError()
  return tf.keras.losses.BinaryCrossentropy(from_logits=True)


def score(task: sources.Task, labels: np.ndarray,
          outputs: np.ndarray) -> float:
  """The task's metric (`METRICS[task.kind]`) of outputs against labels.

  Args:
    task: the downstream task.
    labels: [N] int class ids, [N] float targets or [N, K] multi-hot.
    outputs: [N, K] logits, or [N, 1] / [N] regression outputs.

  Returns:
    Accuracy, mean squared error, or the mean over classes of the ROC AUC
    (classes with a single label value in `labels` are left out).
  """
  outputs = np.asarray(outputs)
  if task.kind == "classification":
    return float(np.mean(np.argmax(outputs, axis=-1) == labels))
  if task.kind == "regression":
    return float(np.mean((outputs.reshape(-1) - labels.reshape(-1))**2))
  aucs = [roc_auc(labels[:, k], outputs[:, k])
          for k in range(labels.shape[1]) if 0 < labels[:, k].sum() <
          len(labels)]
  return float(np.mean(aucs)) if aucs else float("nan")


def scores(task: sources.Task, labels: np.ndarray,
           outputs: np.ndarray) -> Dict[str, float]:
  """Every metric of the task: {METRICS[task.kind]: score(...), ...}.

  Multi-label tasks add "micro_auc", the ROC AUC of all (example, class)
  pairs pooled, which weighs frequent classes more than the macro mean.
  """
  result = {METRICS[task.kind]: score(task, labels, outputs)}
  if task.kind == "multilabel":
    labels, outputs = np.asarray(labels).reshape(-1), np.asarray(
        outputs).reshape(-1)
    result["micro_auc"] = (roc_auc(labels, outputs) if 0 < labels.sum() <
                           len(labels) else float("nan"))
  return result


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
  """ROC AUC: the probability that a positive outranks a negative (ties ½)."""
  positive, negative = scores[labels > 0.5], scores[labels <= 0.5]
  greater = (positive[:, None] > negative[None, :]).mean()
  ties = (positive[:, None] == negative[None, :]).mean()
  return float(greater + 0.5 * ties)


SUBSETS = ("stratified", "first")


def labelled_subset(task: sources.Task, labels: np.ndarray, count: int,
                    seed: int, how: str = "stratified") -> np.ndarray:
  """Indices of `count` labelled examples drawn at random, stratified.

  `how="first"` takes the first `count` examples whatever the seed (the
  protocol before s2l 0.2, kept to measure what the draw changes). Otherwise
  each seed draws its own subset, so the spread over seeds includes the
  choice of labelled examples. A classification task's classes are
  represented in proportion to their frequency in `labels` (each class's
  examples in a random order, then taken by their position within their
  class, `(rank + ½) / class size`): a pool sorted by class still gives every
  class its share. Regression and multi-label tasks draw uniformly.

  Args:
    task: the downstream task.
    labels: [N] (or [N, K]) labels of the pool to draw from.
    count: how many to draw, at most N.
    seed: the draw.
    how: "stratified" or "first".

  Returns:
    [count] int64 indices into `labels`, in increasing order.

  Raises:
    ValueError: if count exceeds the pool.
  """
  labels = np.asarray(labels)
  if how not in SUBSETS:
    raise ValueError(f"labelled subsets must be one of {SUBSETS}, got "
                     f"{how!r}.")
  if not 0 < count <= len(labels):
    raise ValueError(f"cannot draw {count} labelled examples from a pool of "
                     f"{len(labels)}; lower evaluate.num_examples.")
  if how == "first":
    return np.arange(count)
  rng = np.random.default_rng([seed, count])
  order = rng.permutation(len(labels))
  if task.kind != "classification":
    return np.sort(order[:count])
  classes = labels[order]
  position = np.empty(len(order))
  for value in np.unique(classes):
    members = np.flatnonzero(classes == value)
    position[members] = (np.arange(len(members)) + 0.5) / len(members)
  # A stable sort keeps the random order among equal positions.
  chosen = order[np.argsort(position, kind="stable")[:count]]
  return np.sort(chosen)


def embed(encoder: tf.keras.Model, dataset: tf.data.Dataset
          ) -> Tuple[np.ndarray, np.ndarray]:
  """Embeddings [N, E] and labels of a (patches, label) dataset."""
  embeddings, labels = [], []
  for patches, label in dataset:
    embeddings.append(encoder(patches, training=False).numpy())
    labels.append(label.numpy())
  return np.concatenate(embeddings), np.concatenate(labels)


@dataclasses.dataclass(frozen=True)
class HeadInputs:
  """What a head trains on and is scored on, and how to read its outputs.

  Attributes:
    train: the training embeddings [N, E] as the head sees them.
    targets: its training targets [N] (standardised for regression).
    test: the test embeddings [M, E] as the head sees them.
    decode: the head's outputs [M, num_outputs] to the task's units (undoes
      the targets' standardisation).
    prepare: other embeddings [K, E] as the head sees them (a selection
      set's), standardised with the training statistics.
  """
  train: np.ndarray
  targets: np.ndarray
  test: np.ndarray
  decode: Callable[[np.ndarray], np.ndarray]
  prepare: Callable[[np.ndarray], np.ndarray]


def head_inputs(task: sources.Task, train: Tuple, test: Tuple,
                standardize: bool = True) -> HeadInputs:
  """The inputs of `train_head` (see there for the arguments).

  Standardised inputs let one learning rate suit every encoder: each
  embedding unit is standardised with its training mean and spread, then
  clipped to ±CLIP. A unit that is constant on the training examples (a dead
  ReLU) keeps its scale: dividing by its ~0 spread would blow up its test
  values. A regression target (e.g. MIDI pitch) is standardised too.
  """
  mean, std = train[0].mean(0), train[0].std(0)
  std = np.where(std > 1e-6, std, 1.0)
  standardise = ((lambda x: np.clip((x - mean) / std, -CLIP, CLIP))
                 if standardize else (lambda x: x))
  targets, target_mean, target_std = train[1], 0.0, 1.0
  if task.kind == "regression":
    target_mean, target_std = targets.mean(), targets.std() or 1.0
    targets = (targets - target_mean) / target_std
  return HeadInputs(standardise(train[0]), targets, standardise(test[0]),
                    lambda outputs: outputs * target_std + target_mean,
                    standardise)


def train_head(task: sources.Task, head_kind: str, train: Tuple, test: Tuple,
               seed: int, epochs: int = 100, batch_size: int = 64,
               learning_rate: float = 1e-3,
               hidden_units: int = 512,
               standardize: bool = True,
               callbacks: Sequence[tf.keras.callbacks.Callback] = (),
               select_on: Optional[Tuple] = None
               ) -> Dict[str, float]:
  """Trains a head on embeddings and returns its test metrics.

  Args:
    task: the downstream task.
    head_kind: "mlp" or "linear".
    train: (embeddings [N, E], labels) to fit.
    test: (embeddings [M, E], labels) to score.
    seed: initialisation and batch order.
    epochs, batch_size, learning_rate: Adam training of the head.
    hidden_units: MLP width.
    standardize: standardise each embedding unit with its training mean and
      spread, then clip to ±CLIP; False feeds the raw embeddings
      (`head_inputs`).
    callbacks: Keras callbacks of the head's training (`model` is the head;
      they see nothing of the test set but through `head_inputs`).
    select_on: None to keep the head after its last epoch; or (embeddings
      [K, E], labels) of a selection set (the validation split, never the
      test set): the head is scored on it every `SELECT_EVERY` epochs and
      after the last, and the weights of its best score are kept (the
      earliest of equal scores).

  Returns:
    The test `scores`: `METRICS[task.kind]` and any other of the task; with
    `select_on`, also `HEAD_EPOCH`: the number of epochs of the head kept.
  """
  tf.keras.utils.set_random_seed(seed)
  inputs = head_inputs(task, train, test, standardize)
  head = make_head(head_kind, num_outputs(task), hidden_units)
  head.compile(tf.keras.optimizers.Adam(learning_rate), loss=loss_for(task))
  predict = lambda x: inputs.decode(head.predict(x, batch_size=256,
                                                 verbose=0))
  keeper = None if select_on is None else _BestEpoch(
      task, inputs.prepare(select_on[0]), select_on[1], predict)
  # One fit either way: watching the selection set changes neither the
  # batches nor the updates, so the head kept at its last epoch is the very
  # head of the default protocol.
  head.fit(inputs.train, inputs.targets, epochs=epochs,
           batch_size=batch_size, verbose=0, shuffle=True,
           callbacks=list(callbacks) + ([keeper] if keeper else []))
  if keeper is None:
    return scores(task, test[1], predict(inputs.test))
  head.set_weights(keeper.weights)
  return {**scores(task, test[1], predict(inputs.test)),
          HEAD_EPOCH: keeper.epoch}


class _BestEpoch(tf.keras.callbacks.Callback):
  """Scores the head on a selection set every `SELECT_EVERY` epochs and after
  the last; keeps the weights (and epoch count) of the best score, the
  earliest of equal ones."""

  def __init__(self, task, embeddings, labels, predict):
    super().__init__()
    self.task, self.embeddings, self.labels = task, embeddings, labels
    self.predict = predict  # embeddings -> the head's decoded predictions
    self.sign = 1.0 if METRICS[task.kind] == "mse" else -1.0
    self.best, self.epoch, self.weights = None, 0, None

  def on_epoch_end(self, epoch, logs=None):
    done = epoch + 1
    if done % SELECT_EVERY and done != self.params["epochs"]:
      return
    value = self.sign * score(self.task, self.labels,
                              self.predict(self.embeddings))
    if self.best is None or value < self.best:
      self.best, self.epoch, self.weights = (value, done,
                                             self.model.get_weights())


def train_supervised(task: sources.Task, encoder: tf.keras.Model,
                     head_kind: str, train_ds: tf.data.Dataset,
                     test_ds: tf.data.Dataset, seed: int, epochs: int = 30,
                     learning_rate: float = 1e-3,
                     hidden_units: int = 512,
                     precision: str = "float32") -> Dict[str, float]:
  """The "without pre-training" baseline: encoder and head trained end to end.

  Args:
    task: the downstream task.
    encoder: an encoder to clone; its architecture is kept and its weights
      are drawn afresh.
    head_kind: "mlp" or "linear".
    train_ds, test_ds: (patches, label) datasets, batched.
    seed: initialisation.
    epochs, learning_rate: Adam training of the whole network.
    hidden_units: MLP width.
    precision: the pre-training's (`s2l.precision`). The clone keeps the
      encoder's layer dtypes; "mixed_float16" adds loss scaling.

  Returns:
    The test `scores`: `METRICS[task.kind]` and any other of the task.
  """
  tf.keras.utils.set_random_seed(seed)
  fresh = tf.keras.models.clone_model(encoder)
  model = tf.keras.Sequential([fresh, make_head(head_kind, num_outputs(task),
                                                hidden_units)])
  optimizer = precision_lib.optimizer(tf.keras.optimizers.Adam(learning_rate),
                                      precision)
  model.compile(optimizer, loss=loss_for(task))
  model.fit(train_ds, epochs=epochs, verbose=0)
  outputs, labels = embed(model, test_ds)
  return scores(task, labels, outputs)
