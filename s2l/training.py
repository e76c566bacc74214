r"""Upstream training: learn to reorder shuffled patches (paper sections 2, 3).

The command line is `python -m s2l.train` (`s2l/train.py`).
`train(model_dir, ...)` is the one configurable root: gin files set its
arguments and the swappable parts (data source, slicing, front end, loss),
which it resolves and checks once into a `run_spec.RunSpec`; `train_spec`
trains a spec in named steps (build, record, restore, fit, export).
The run describes itself in `model_dir/run.json` (`s2l.run_record`: source,
slicing, front end, loss, network, precision, schedule, seed), which the
probes read, and keeps its operative gin config and flags beside it. It
writes TensorBoard summaries there, checkpoints every `steps_per_checkpoint`
steps, resumes from the last checkpoint when the same command runs again,
does nothing when the run is already complete, and exports the encoder (up to
the embedding layer) as a SavedModel in `model_dir/encoder`.
"""

import dataclasses
import os
import signal as signal_lib
from typing import Optional, Sequence, Union

from absl import logging
import gin
import tensorflow as tf

from s2l import callbacks
from s2l import configurables  # pylint: disable=unused-import (gin names)
from s2l import distribute
from s2l import locks
from s2l import losses
from s2l import precision as precision_lib
from s2l import pretext_model
from s2l import run_directory
from s2l import run_record
from s2l import run_spec
from s2l.data import model_inputs
from s2l.data import patches as patches_lib
from s2l.data import pipeline
from s2l.models import cfn

def _datasets(spec: run_spec.RunSpec, seed: int):
  """The shuffled training batches and the fixed held-out ones."""
  common = dict(slicing=spec.slicing, batch_size=spec.batch_size,
                frontend=spec.frontend,
                permutation_set=spec.loss.permutation_set,
                data_dir=spec.data_dir, placement=spec.execution.placement)
  train_ds = pipeline.pretext_dataset(spec.source, "train", seed=seed,
                                      cache=spec.execution.cache,
                                      max_examples=spec.train_examples,
                                      **common)
  # A fixed held-out set: the same examples and permutations at every eval,
  # cached whole once drawn. Only the examples it uses are read (a cache of
  # the whole split, read in part, is what tf.data warns about discarding).
  eval_batches = spec.schedule.eval_batches
  eval_ds = pipeline.pretext_dataset(
      spec.source, "validation", seed=1, shuffle_buffer=0, cache=False,
      max_examples=eval_batches * spec.batch_size, **common)
  return train_ds, eval_ds.take(eval_batches).cache()


def _patches_spec(train_ds, pretext_inputs) -> tf.TensorShape:
  """[B, n, *patch_shape] of the network's input batches."""
  if pretext_inputs is None:
    return train_ds.element_spec[0].shape
  traced = tf.function(pretext_inputs).get_concrete_function(
      train_ds.element_spec)
  return traced.structured_outputs[0].shape


# The configurable root: one argument per knob a gin file binds (hence more
# than ten), resolved at once into a `run_spec.RunSpec`.
@gin.configurable(denylist=["model_dir"])
def train(model_dir: str,
          source: str = "synthetic_notes",
          slicing: patches_lib.Slicing = patches_lib.Slicing(nx=1, ny=10),
          frontend: Optional[pipeline.Frontend] = None,
          frontend_placement: str = "data",
          loss: Union[losses.PermutationLoss, str] = "perturbed_fenchel_young",
          learning_rate: float = 1e-5,
          batch_size: int = 32,
          train_steps: int = 10000,
          steps_per_checkpoint: int = 200,
          eval_batches: int = 8,
          log_every: int = 50,
          export_steps: Sequence[int] = (),
          width: float = 0.25,
          depth: int = 3,
          embedding_size: int = 4096,
          dropout: float = 0.0,
          seed: int = 0,
          strategy: str = "default",
          cache: bool = True,
          jit_compile: bool = False,
          precision: str = "float32",
          data_dir: Optional[str] = None,
          train_examples: Optional[int] = None,
          override_record: bool = False) -> tf.keras.callbacks.History:
  """Trains a CFN on the permutation pretext task.

  Args:
    model_dir: where checkpoints, summaries, config and the encoder go.
    source: a registered data source's name (see `s2l.data.sources`) or a
      source object (`AudioFolder`).
    slicing: how inputs are cut into patches (ignored for video).
    frontend: raw input to image-like tensor; the modality's default if None.
    frontend_placement: where the front end, the patches and the permutations
      run: "data" (in tf.data, on the host) or "model" (audio only: tf.data
      ships raw waveforms and `model_inputs.PretextInputs` runs them in the
      training step, on the accelerator). The same maths and permutations
      either way, so it is not part of the run record (like `cache` and
      `jit_compile`) and may change on resume.
    loss: pretext loss, or its name (`losses.REGISTRY`: "fast_soft_ranking",
      ...).
    learning_rate: Adam's learning rate. The paper: 1e-6 over ~9M steps. The
      default, the embedded twins' setting, is 1e-5 for 10000 steps: Adam at
      1e-3 kills most ReLUs of the per-patch layer within 200 steps and the
      probed embedding collapses, while 1e-6 for 2000 steps leaves the
      encoder at its initialisation (results/soundfont_notes/ablations.md).
    batch_size: global batch size (the paper: 32), split across replicas.
    train_steps: optimizer steps in total.
    steps_per_checkpoint: steps between checkpoints and held-out evals.
    eval_batches: held-out batches per eval.
    log_every: steps between console lines.
    export_steps: earlier steps at which the encoder is also exported, to
      `RUN/encoder_steps/<step>` (`evaluate.encoder_step` probes one): the
      gain against pre-training steps from one run. Multiples of
      `steps_per_checkpoint` below `train_steps`; not part of the record.
    width: channel multiplier of the CFN (1.0 is AlexNet).
    depth: AlexNet convolutions kept (1 to 5; the paper's AlexNet: 5).
    embedding_size: units of the embedding layer before the width multiplier.
    dropout: dropout rate after the CFN's two fully connected layers (fc6 per
      patch, the embedding), in training; the paper does not say, AlexNet and
      the CFN of Noroozi & Favaro use 0.5.
    seed: seed of weights, data order, permutations and noise.
    strategy: "default", "mirrored", "multi_worker" or "tpu".
    cache: cache front-end outputs (spectrograms, frames) in memory.
    jit_compile: compile the train step with XLA.
    precision: "float32", "mixed_bfloat16" or "mixed_float16"
      (`s2l.precision`): the Keras dtype policy the network is built and
      trained under, restored afterwards. The scores and the losses stay in
      float32; "mixed_float16" scales the loss (`LossScaleOptimizer`).
    data_dir: TFDS data directory.
    train_examples: pre-train on the first examples of the training split
      only (None: all of it), for the gain against the amount of data;
      recorded in run.json.
    override_record: resume a model_dir whose record (data, patches, front
      end, loss, network, precision, batch size, seed) differs from this
      config's, logging the differences; refused otherwise.

  Returns:
    The Keras History of this invocation (empty if already complete).

  Raises:
    ValueError: for a knob out of range (the message names it), or a resume
      under another setting (`run_record.RecordError`).
  """
  spec = run_spec.resolve(
      source, slicing, frontend, loss,
      run_spec.Network(width, depth, embedding_size, dropout),
      run_spec.Schedule(learning_rate, train_steps, steps_per_checkpoint,
                        eval_batches, log_every, tuple(export_steps)),
      run_spec.Execution(strategy, frontend_placement, cache, jit_compile),
      precision, batch_size, seed, data_dir, train_examples)
  return train_spec(model_dir, spec, override_record)


@dataclasses.dataclass
class _Built:
  """What a run builds before it trains."""
  train_ds: tf.data.Dataset
  eval_ds: tf.data.Dataset
  pretext_inputs: Optional[model_inputs.PretextInputs]
  patch_shape: tf.TensorShape
  network: tf.keras.Model
  model: pretext_model.PretextModel
  checkpoint: tf.train.Checkpoint


def train_spec(model_dir: str, spec: run_spec.RunSpec,
               override_record: bool = False) -> tf.keras.callbacks.History:
  """Trains the run `spec` describes in `model_dir` (see `train`)."""
  tf.keras.utils.set_random_seed(spec.seed)
  distribution = distribute.make_strategy(spec.execution.strategy)
  chief = distribute.is_chief()
  # A worker's scratch directory is named by its task, so that a restarted
  # worker resumes from its own checkpoints.
  write_dir = model_dir if chief else os.path.join(
      model_dir, "workers", distribute.task_name())
  tf.io.gfile.makedirs(write_dir)
  # One writer per run directory: a second one would write the same
  # checkpoint numbers and summaries.
  with locks.run_lock(write_dir), precision_lib.policy(spec.precision):
    # Checkpoints are numbered by step, so a resumed run knows its step before
    # building anything, and draws new permutations rather than replaying the
    # ones before the checkpoint.
    latest = run_directory.readable_checkpoint(
        run_directory.checkpoints(write_dir))
    start_step = run_directory.checkpoint_step(latest) if latest else 0
    built = _build(spec, distribution, start_step)
    record = spec.record(built.patch_shape.as_list())
    encoder_step = _write_record(model_dir, write_dir, record,
                                 resuming=bool(latest),
                                 override=override_record)
    manager = _restore(spec, built, write_dir)
    step = int(built.model.optimizer.iterations.numpy())
    # The model and data are built: the config is now complete.
    with tf.io.gfile.GFile(os.path.join(
        write_dir, run_directory.OPERATIVE_CONFIG), "w") as f:
      f.write(gin.operative_config_str())
    if step >= spec.schedule.train_steps:
      logging.info("%s holds %d of %d steps: nothing to train.", model_dir,
                   step, spec.schedule.train_steps)
      if chief and encoder_step != step:
        # Stopped between its last checkpoint and the export: finish it.
        run_directory.export_encoder(built.network, model_dir, record, step)
      history = tf.keras.callbacks.History()
      history.epoch, history.history = [], {}
      return history
    if step:
      logging.info("Resuming from %s at step %d.", manager.latest_checkpoint,
                   step)
      if chief and step in spec.schedule.export_steps:
        # A run lengthened past its former last step keeps that encoder.
        run_directory.export_encoder_at(built.network, model_dir, step)
    elif chief:
      run_directory.export_initial_encoder(built.network, model_dir)
    history = _fit(spec, built, manager, write_dir, step,
                   model_dir if chief else None)
    if chief:
      run_directory.export_encoder(
          built.network, model_dir, record,
          int(built.model.optimizer.iterations.numpy()))
    return history


def _build(spec: run_spec.RunSpec, distribution,
           start_step: int) -> _Built:
  """The data (seeded by the step the run starts at) and the model."""
  train_ds, eval_ds = _datasets(spec, spec.seed + 7919 * start_step)
  pretext_inputs = None if spec.execution.placement == "data" else \
      model_inputs.PretextInputs(spec.frontend, spec.slicing,
                                 spec.loss.permutation_set)
  patches_spec = _patches_spec(train_ds, pretext_inputs)
  if patches_spec[1] != spec.num_patches:
    raise ValueError(f"the pipeline gives {patches_spec[1]}"
                     f" patches per example, expected {spec.num_patches}.")
  patch_shape = patches_spec[2:]
  with distribution.scope():
    network = cfn.context_free_network(
        spec.num_patches, patch_shape, spec.loss.num_outputs,
        **dataclasses.asdict(spec.network))
    model = pretext_model.PretextModel(network, spec.loss, pretext_inputs)
    optimizer = precision_lib.optimizer(
        tf.keras.optimizers.Adam(spec.schedule.learning_rate), spec.precision)
    model.compile(optimizer, jit_compile=spec.execution.jit_compile)
    checkpoint = tf.train.Checkpoint(network=network,
                                     optimizer=model.optimizer)
  return _Built(train_ds, eval_ds, pretext_inputs, patch_shape, network,
                model, checkpoint)


def _write_record(model_dir: str, write_dir: str, record,
                  resuming: bool, override: bool) -> Optional[int]:
  """Checks a resumed run's record against this one, then writes it; the
  step of the encoder exported so far (None: none)."""
  if resuming:
    changed = run_record.check_resume(write_dir, record, override=override)
    if changed:
      logging.warning("Resuming %s under another setting "
                      "(train.override_record):\n  %s", model_dir,
                      "\n  ".join(changed))
  # The exported encoder's step carries over until a new export.
  encoder_step = run_directory.encoder_step(write_dir)
  run_record.write(write_dir, {**record, "encoder_step": encoder_step})
  return encoder_step


def _restore(spec: run_spec.RunSpec, built: _Built,
             write_dir: str) -> tf.train.CheckpointManager:
  """The run's checkpoint manager, its latest checkpoint restored."""
  manager = tf.train.CheckpointManager(
      built.checkpoint, run_directory.checkpoints(write_dir), max_to_keep=3)
  if manager.latest_checkpoint:
    # Optimizer slots are restored when the first step creates them.
    built.checkpoint.restore(manager.latest_checkpoint).expect_partial()
    # The checkpoint holds the optimizer's learning rate: the config's wins,
    # so a resumed run can change it.
    built.model.optimizer.learning_rate.assign(spec.schedule.learning_rate)
  return manager


def _fit(spec: run_spec.RunSpec, built: _Built,
         manager: tf.train.CheckpointManager, write_dir: str,
         step: int, export_dir: Optional[str]) -> tf.keras.callbacks.History:
  """Trains from `step` to the end of the schedule, with the callbacks that
  log, stop, evaluate, look at the embedding, export the encoder at
  `schedule.export_steps` (into `export_dir`, the chief's run; None: not
  this worker) and checkpoint."""
  schedule = spec.schedule
  train_writer = tf.summary.create_file_writer(os.path.join(write_dir,
                                                            "train"))
  with train_writer.as_default(step=step):
    tf.summary.text("operative_config", gin.markdown(
        gin.operative_config_str()))
  # The callbacks look at the held-out patches themselves, read whole once
  # (a cache read in part warns that it discards what it read).
  held_out = [batch if built.pretext_inputs is None else
              built.pretext_inputs(batch) for batch in built.eval_ds]
  stopper = callbacks.StopOnNonFinite(manager)
  preemption = _preemption(spec.execution.strategy, built, manager, stopper)
  exports = [] if export_dir is None or not schedule.export_steps else [
      callbacks.ExportAtSteps(
          lambda at: run_directory.export_encoder_at(built.network,
                                                     export_dir, at),
          schedule.export_steps, guard=stopper)]
  history = built.model.fit(
      built.train_ds, validation_data=built.eval_ds,
      initial_epoch=step // schedule.steps_per_checkpoint,
      epochs=schedule.train_steps // schedule.steps_per_checkpoint,
      steps_per_epoch=schedule.steps_per_checkpoint, verbose=0,
      callbacks=[
          callbacks.Progress(schedule.train_steps, schedule.log_every,
                             train_writer),
          callbacks.StopAtStep(schedule.train_steps),
          stopper,
          tf.keras.callbacks.TensorBoard(write_dir, update_freq="epoch",
                                         profile_batch=0),
          callbacks.Reassembly(held_out[0], *spec.grid, train_writer),
          callbacks.Collapse(cfn.collapse_probe_model(built.network),
                             held_out, train_writer),
          # Before the checkpoint: a checkpoint of an export step means
          # the export is whole.
          *exports,
          callbacks.SaveCheckpoint(manager, guard=stopper),
      ] + ([preemption] if preemption else []))
  if stopper.error:
    raise FloatingPointError(stopper.error)
  if preemption and preemption.step is not None:
    train_writer.flush()
    raise Preempted(preemption.signal, preemption.step, preemption.path,
                    cluster=isinstance(preemption,
                                       callbacks.ClusterPreemption))
  return history


# Strategies under which a SIGTERM or SIGINT stops training at a checkpoint:
# s2l's own handler in one process, TensorFlow's across the workers of
# multi_worker. TensorFlow's handler supports TPUs only on Google's internal
# platform, so under "tpu" a signal ends the process and a rerun resumes from
# the last periodic checkpoint.
SIGNAL_STRATEGIES = ("default", "mirrored", "multi_worker")


def _preemption(strategy: str, built: _Built,
                manager: tf.train.CheckpointManager,
                stopper: callbacks.StopOnNonFinite):
  """The callback that stops at a checkpoint on SIGTERM or SIGINT under
  `strategy`, None where none can."""
  if strategy == "multi_worker":
    return callbacks.ClusterPreemption(
        manager, built.model.distribute_strategy.cluster_resolver)
  if strategy in SIGNAL_STRATEGIES:
    return callbacks.Preemption(manager, guard=stopper)
  return None


class Preempted(Exception):
  """Training stopped by a signal, after checkpointing the step it reached.

  Attributes:
    signal: the signal's number.
    step: the step of the checkpoint.
    path: the checkpoint (None if the loss had diverged: nothing was saved).
  """

  def __init__(self, signum: int, step: int, path: Optional[str],
               cluster: bool = False):
    self.signal, self.step, self.path = signum, step, path
    name = signal_lib.Signals(signum).name
    saved = (f"the checkpoint {path} holds step {step}" if path else
             f"no checkpoint was saved at step {step}")
    if cluster:
      self.message = (f"{name} (to this worker or another): the workers "
                      f"stopped at step {step}; {saved}. Rerun every "
                      "worker's command to resume from it.")
    else:
      self.message = (f"{name}: training stopped at step {step}; {saved}. "
                      "Rerun the same command to resume from it.")
    super().__init__(self.message)
