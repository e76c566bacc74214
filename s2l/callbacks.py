"""Keras callbacks of the training entry point: progress, checkpoints, images.

* `Progress`: a console line every few steps with the loss, partial ranks,
  steps/s and the ETA, and in TensorBoard steps/s, the learning rate and
  the batch metrics (`batch_loss`, ...) at the global step.
* `SaveCheckpoint`: a `tf.train.CheckpointManager` save at the end of every
  Keras epoch, which `train` makes one checkpoint interval long, so a killed
  run loses at most one interval.
* `StopOnNonFinite`: stops at the first step whose loss is NaN or infinite,
  so that no checkpoint holds the diverged weights, and words the error; it
  warns when a finite loss explodes (100 times its recent median).
* `Reassembly`: TensorBoard images of shuffled held-out inputs next to the
  model's reassembly and the original (paper figure 2).
* `Collapse`: dead units and effective dimension of the probed layer (and of
  the per-patch features) on held-out inputs put back in order, as the
  probes see them (`s2l.diagnostics`).
* `Preemption`: on SIGTERM or SIGINT, finishes the step in progress, saves a
  checkpoint at it and stops training; a second signal exits at once.
* `ClusterPreemption`: the same across the workers of `multi_worker`,
  through TensorFlow's `PreemptionCheckpointHandler`: the workers agree on
  a step, each checkpoints it and stops.
"""

import collections
import math
import os
import signal
import sys
import threading
import time
from typing import Callable, Optional, Sequence

from absl import logging
import numpy as np
import tensorflow as tf

from s2l import diagnostics
from s2l.data import shuffling


class Progress(tf.keras.callbacks.Callback):
  """Logs progress every `every` steps.

  The optimizer's step is read once when training starts and then counted
  on the host: reading the variable at every batch would sync every step.
  """

  def __init__(self, total_steps: int, every: int = 50,
               writer: Optional[tf.summary.SummaryWriter] = None):
    super().__init__()
    self.total_steps = total_steps
    self.every = every
    self.writer = writer
    self._start = None
    self._start_step = self._step = 0

  def on_train_begin(self, logs=None):
    self._start = time.perf_counter()
    self._start_step = self._step = int(
        self.model.optimizer.iterations.numpy())

  def on_train_batch_end(self, batch, logs=None):
    self._step += 1
    step = self._step
    if step % self.every and step != self.total_steps:
      return
    rate = (step - self._start_step) / max(time.perf_counter() - self._start,
                                           1e-9)
    eta = (self.total_steps - step) / rate if rate else float("inf")
    logs = logs or {}
    logging.info(
        "step %d/%d  loss %.4f  partial ranks %.3f  %.1f steps/s  ETA %s",
        step, self.total_steps, logs.get("loss", float("nan")),
        logs.get("partial_ranks", float("nan")), rate,
        time.strftime("%H:%M:%S", time.gmtime(eta)) if rate else "?")
    if self.writer is not None:
      learning_rate = self.model.optimizer.learning_rate
      if callable(learning_rate):
        learning_rate = learning_rate(step)
      with self.writer.as_default(step=step):
        tf.summary.scalar("steps_per_second", rate)
        tf.summary.scalar("learning_rate", learning_rate)
        # Keras's own batch summaries count from 0 at every fit(), so a
        # resumed run would restart them; these use the global step.
        for name, value in logs.items():
          tf.summary.scalar(f"batch_{name}", value)


class StopOnNonFinite(tf.keras.callbacks.Callback):
  """Stops training at the first non-finite loss and keeps the error.

  Keras then ends the epoch normally (so every callback cleans up), but
  `SaveCheckpoint` given this callback saves nothing: the last checkpoint
  keeps finite weights. The caller raises `FloatingPointError(self.error)`
  after `fit` returns, before exporting anything.

  Args:
    manager: the run's checkpoint manager, named in the error.
    explosion_factor: a finite loss above this many times the median of the
      last `window` batches is logged as a warning (at most once per window).
    window: batches in that median.
  """

  def __init__(self, manager: Optional[tf.train.CheckpointManager] = None,
               explosion_factor: float = 100.0, window: int = 200):
    super().__init__()
    self.manager = manager
    self.error = None
    self.explosion_factor = explosion_factor
    self._recent = collections.deque(maxlen=window)
    self._batches = 0
    self._warned_at = None

  def on_train_batch_end(self, batch, logs=None):
    loss = (logs or {}).get("loss")
    if self.error or loss is None:
      return
    loss = float(loss)
    if math.isfinite(loss):
      self._watch(loss)
      return
    self.model.stop_training = True
    step = int(self.model.optimizer.iterations.numpy())
    kept = self.manager.latest_checkpoint if self.manager else None
    self.error = (
        f"the pretext loss became {float(loss)} at step {step}: training "
        "stopped without saving the diverged weights"
        + (f"; the last checkpoint, {kept}, holds finite ones"
           if kept else "") +
        ". Lower train.learning_rate or change the loss (see gin/losses/), "
        "then rerun: a rerun resumes from the last checkpoint.")

  def _watch(self, loss: float) -> None:
    """Warns (at most every `window` batches) when a finite loss grows by
    more than `explosion_factor` over its recent median: a run that
    explodes without ever becoming NaN."""
    self._batches += 1
    recent = self._recent
    # From the second batch on: a learning rate far too high blows the loss
    # up at the first update (x1e9 at step 2 of a run at learning rate 10).
    if recent:
      median = float(np.median(recent))
      if (abs(loss) > self.explosion_factor * max(abs(median), 1e-12) and
          (self._warned_at is None or
           self._batches - self._warned_at >= recent.maxlen)):
        self._warned_at = self._batches
        logging.warning(
            "The pretext loss is %.4g, %.0f times its median of %.4g over "
            "the last %d batches: the run may be diverging. Lower "
            "train.learning_rate if it keeps growing.", loss,
            abs(loss) / max(abs(median), 1e-12), median, len(recent))
    recent.append(loss)


class StopAtStep(tf.keras.callbacks.Callback):
  """Ends training once the optimizer has taken `last_step` steps.

  `fit` runs epochs of `steps_per_checkpoint` steps from the epoch a run
  resumes in. A run resumed from a step between two checkpoints (one stopped
  by a signal) would otherwise end that many steps past its budget. The
  epoch cut short still evaluates and checkpoints (Keras runs both after
  `stop_training`), at the last step.
  """

  def __init__(self, last_step: int):
    super().__init__()
    self.last_step = last_step

  def on_train_batch_end(self, batch, logs=None):
    if int(self.model.optimizer.iterations.numpy()) >= self.last_step:
      self.model.stop_training = True


class ExportAtSteps(tf.keras.callbacks.Callback):
  """Calls `export(step)` at the end of each epoch that ends on one of
  `steps` (`train.export_steps`: the encoder at earlier steps, for the gain
  against pre-training steps), unless `guard` has seen the loss diverge."""

  def __init__(self, export: Callable[[int], object], steps: Sequence[int],
               guard: Optional[StopOnNonFinite] = None):
    super().__init__()
    self.export = export
    self.steps = frozenset(steps)
    self.guard = guard

  def on_epoch_end(self, epoch, logs=None):
    if self.guard is not None and self.guard.error:
      return
    step = int(self.model.optimizer.iterations.numpy())
    if step in self.steps:
      self.export(step)


class SaveCheckpoint(tf.keras.callbacks.Callback):
  """Saves `manager`'s checkpoint, numbered by the step, after every epoch.

  Nothing is saved once `guard` (a `StopOnNonFinite`) has seen the loss
  diverge.
  """

  def __init__(self, manager: tf.train.CheckpointManager,
               guard: Optional[StopOnNonFinite] = None):
    super().__init__()
    self.manager = manager
    self.guard = guard

  def on_epoch_end(self, epoch, logs=None):
    if self.guard is not None and self.guard.error:
      return
    save(self.manager, self.model)


def save(manager: tf.train.CheckpointManager, model) -> str:
  """Saves a checkpoint numbered by the optimizer's step, unless the newest
  one already holds that step (a preempted epoch ends at the step it was
  saved at)."""
  step = int(model.optimizer.iterations.numpy())
  latest = manager.latest_checkpoint
  if latest and latest.endswith(f"ckpt-{step}"):
    return latest
  path = manager.save(checkpoint_number=step)
  logging.info("Saved checkpoint %s", path)
  return path


def _exit_at_once(signum: int) -> None:
  """A second signal: exits with 128 + its number, without a checkpoint."""
  sys.stderr.write(f"\n{signal.Signals(signum).name} again: exiting at once, "
                   "without a checkpoint of the step in progress.\n")
  sys.stderr.flush()
  os._exit(128 + signum)  # pylint: disable=protected-access


class Preemption(tf.keras.callbacks.Callback):
  """Stops at the end of the step in progress on SIGTERM or SIGINT.

  A cluster scheduler or a preemptible machine sends SIGTERM, a person
  Ctrl-C. The first signal is noted; when the step in progress returns, a
  checkpoint is saved at that step (unless `guard` saw the loss diverge) and
  training stops, so the caller can record the run and release its lock.
  A second signal exits at once (status 128 + signal), without a checkpoint.
  The handlers are installed for the length of `fit` (main thread only) and
  the previous ones put back afterwards.

  Attributes:
    signal: the number of the signal received, None if none.
    step: the step the checkpoint was saved at.
    path: that checkpoint.
  """

  SIGNALS = (signal.SIGTERM, signal.SIGINT)

  def __init__(self, manager: tf.train.CheckpointManager,
               guard: Optional[StopOnNonFinite] = None):
    super().__init__()
    self.manager = manager
    self.guard = guard
    self.signal = None
    self.step = None
    self.path = None
    self._previous = {}

  def _handle(self, signum, frame):
    del frame
    name = signal.Signals(signum).name
    if self.signal is not None:
      _exit_at_once(signum)
    self.signal = signum
    logging.warning("%s received: finishing the step in progress, then "
                    "saving a checkpoint and stopping (send it again to exit "
                    "at once).", name)

  def on_train_begin(self, logs=None):
    if threading.current_thread() is not threading.main_thread():
      logging.warning("Training runs outside the main thread: SIGTERM and "
                      "SIGINT are not caught, a signal loses the steps since "
                      "the last checkpoint.")
      return
    for signum in self.SIGNALS:
      self._previous[signum] = signal.signal(signum, self._handle)

  def on_train_batch_end(self, batch, logs=None):
    if self.signal is None or self.step is not None:
      return
    self.model.stop_training = True
    self.step = int(self.model.optimizer.iterations.numpy())
    if self.guard is None or not self.guard.error:
      self.path = save(self.manager, self.model)

  def on_train_end(self, logs=None):
    for signum, handler in self._previous.items():
      signal.signal(signum, handler)
    self._previous = {}


class ClusterPreemption(tf.keras.callbacks.Callback):
  """`Preemption` for the workers of a `MultiWorkerMirroredStrategy`.

  The workers of several processes must stop at one step, or the last
  collective of one waits forever for the others. TensorFlow's
  `tf.distribute.experimental.PreemptionCheckpointHandler` agrees on that
  step through the cluster's coordination service: the worker that receives
  SIGTERM (or SIGINT) announces the step after the one in progress, every
  worker saves its checkpoint there through `manager` (numbered by the step,
  like `SaveCheckpoint`'s), and training stops on every worker. A second
  signal to a worker exits it at once, without a checkpoint.

  The handler, not this class, watches the cluster and times the save: its
  `exit_fn` only records that the checkpoint is written, so that `train` can
  record the run and release its lock before exiting.

  Attributes:
    signal: the signal this worker received, or SIGTERM when another worker
      received one; None if none.
    step: the step the checkpoint was saved at.
    path: that checkpoint.
  """

  SIGNALS = (signal.SIGTERM, signal.SIGINT)

  def __init__(self, manager: tf.train.CheckpointManager,
               cluster_resolver):
    super().__init__()
    self.manager = manager
    self.cluster_resolver = cluster_resolver
    self.handler = None
    self.signal = None
    self.step = None
    self.path = None
    self._saved = False
    self._received = None
    self._previous = {}

  def _exit(self):
    """The handler's `exit_fn`: its checkpoint is written."""
    self._saved = True

  def on_train_begin(self, logs=None):
    if threading.current_thread() is not threading.main_thread():
      logging.warning("Training runs outside the main thread: SIGTERM and "
                      "SIGINT are not caught, a signal loses the steps since "
                      "the last checkpoint.")
      return
    previous = {signum: signal.getsignal(signum) for signum in self.SIGNALS}
    config = tf.distribute.experimental.TerminationConfig(
        exit_fn=self._exit, grace_period=0)
    # Watches SIGTERM from here on (its constructor installs the handler).
    self.handler = tf.distribute.experimental.PreemptionCheckpointHandler(
        self.cluster_resolver, self.manager, termination_config=config)
    notify = signal.getsignal(signal.SIGTERM)

    def handle(signum, frame):
      name = signal.Signals(signum).name
      if self._received is not None:
        _exit_at_once(signum)
      self._received = signum
      logging.warning("%s received: the workers agree on a step, checkpoint "
                      "it and stop (send it again to exit at once).", name)
      notify(signal.SIGTERM, frame)

    for signum in self.SIGNALS:
      signal.signal(signum, handle)
    self._previous = previous

  def on_train_batch_end(self, batch, logs=None):
    if self.handler is None or self.step is not None:
      return
    step = int(self.model.optimizer.iterations.numpy())
    # Every worker calls this once per step: the handler counts the calls to
    # find the agreed one, saves there and calls `_exit`.
    self.handler.save_checkpoint_if_preempted(checkpoint_number=step)
    if self._saved:
      self.model.stop_training = True
      self.step = step
      self.path = self.manager.latest_checkpoint
      self.signal = self._received or signal.SIGTERM

  def on_train_end(self, logs=None):
    for signum, handler in self._previous.items():
      signal.signal(signum, handler)
    self._previous = {}


def grid_image(patches: tf.Tensor, nx: int, ny: int) -> tf.Tensor:
  """Lays patches [n, h, w, c] out as an ny × nx grid image, in [0, 1].

  Video frames (n = T, nx = ny = 1) are laid out side by side.
  """
  n = patches.shape[0]
  if nx * ny != n:
    nx, ny = n, 1
  rows = [tf.concat(tf.unstack(patches[r * nx:(r + 1) * nx]), axis=1)
          for r in range(ny)]
  image = tf.concat(rows, axis=0)
  low, high = tf.reduce_min(image), tf.reduce_max(image)
  return (image - low) / tf.maximum(high - low, 1e-6)


class Reassembly(tf.keras.callbacks.Callback):
  """Images of shuffled inputs, the model's reassembly and the original.

  Args:
    batch: a held-out (patches [B, n, ...], ranks [B, n]) batch.
    nx, ny: the slicing grid (1, 1 for video).
    writer: where to write the images.
    num_examples: how many examples of the batch to show.
  """

  def __init__(self, batch, nx: int, ny: int,
               writer: tf.summary.SummaryWriter, num_examples: int = 3):
    super().__init__()
    self.patches = batch[0][:num_examples]
    self.ranks = batch[1][:num_examples]
    self.nx, self.ny = nx, ny
    self.writer = writer

  def on_epoch_end(self, epoch, logs=None):
    outputs = self.model(self.patches, training=False)
    predicted = self.model.pretext_loss.predicted_ranks(outputs)
    shown = {
        "shuffled": self.patches,
        "reassembled": shuffling.unshuffle(self.patches, predicted),
        "original": shuffling.unshuffle(self.patches, self.ranks),
    }
    with self.writer.as_default(step=self.model.optimizer.iterations):
      for name, patches in shown.items():
        images = tf.stack([grid_image(p, self.nx, self.ny)
                           for p in tf.unstack(patches)])
        if images.shape[-1] not in (1, 3, 4):
          images = images[..., :1]
        tf.summary.image(f"reassembly/{name}", images,
                         max_outputs=len(self.patches))


class Collapse(tf.keras.callbacks.Callback):
  """TensorBoard `collapse/…` scalars after every epoch.

  Args:
    layers: a model mapping patches to {name: activations}, e.g. the
      embedding [B, E] and the per-patch features [B, n, F].
    batches: held-out (shuffled patches, ranks) batches; they are put back in
      order, since the probes embed unshuffled inputs.
    writer: where to write.
  """

  def __init__(self, layers: tf.keras.Model, batches,
               writer: tf.summary.SummaryWriter):
    super().__init__()
    self.layers = layers
    self.inputs = [shuffling.unshuffle(patches, ranks)
                   for patches, ranks in batches]
    self.writer = writer
    self.last = {}

  def on_epoch_end(self, epoch, logs=None):
    outputs = [self.layers(patches, training=False)
               for patches in self.inputs]
    self.last = {}
    for name in outputs[0]:
      activations = tf.concat([o[name] for o in outputs], axis=0).numpy()
      self.last[name] = diagnostics.collapse(activations)
    with self.writer.as_default(step=self.model.optimizer.iterations):
      for name, numbers in self.last.items():
        tf.summary.scalar(f"collapse/{name}_dead_fraction",
                          numbers["dead_fraction"])
        tf.summary.scalar(f"collapse/{name}_effective_dimension",
                          numbers["effective_dimension"])
    logging.info("held-out %s", "; ".join(
        f"{name}: {100 * n['dead_fraction']:.0f}% dead units, effective "
        f"dimension {n['effective_dimension']:.1f}"
        for name, n in self.last.items()))
