"""A run resolved once: what `s2l.train` trains, checked, as one frozen value.

`resolve` turns `train`'s arguments (names or objects, as gin binds them)
into a `RunSpec`: the source object and its modality, the slicing, the front
end (the modality's default if none), the loss bound to the number of
patches, the network, the schedule, the precision, the batch size, the seed
and how to execute it. Every check runs there, once. Training passes the
spec to the pipeline, the model, the callbacks and the record; `record`
serialises it to `run.json` (`s2l.run_record`), and `from_record` rebuilds
the data side of it for `s2l.evaluate`.
"""

import dataclasses
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import tensorflow as tf

from s2l import checks
from s2l import losses
from s2l import precision as precision_lib
from s2l import run_record
from s2l.data import model_inputs
from s2l.data import modalities
from s2l.data import patches as patches_lib
from s2l.data import sources

Frontend = Callable[[tf.Tensor], tf.Tensor]


@dataclasses.dataclass(frozen=True)
class Network:
  """The CFN's size: `width` × AlexNet's channels, its first `depth`
  convolutions, `embedding_size` × width embedding units, `dropout` (the
  defaults are `s2l.training.train`'s)."""
  width: float
  depth: int
  embedding_size: int
  dropout: float


@dataclasses.dataclass(frozen=True)
class Schedule:
  """Adam's learning rate, the steps, and how often to checkpoint, evaluate
  (both every `steps_per_checkpoint` steps, on `eval_batches` held-out
  batches) and log; the earlier steps at which the encoder is also exported
  (`export_steps`, not in the record: a resumed run may add some)."""
  learning_rate: float
  train_steps: int
  steps_per_checkpoint: int
  eval_batches: int
  log_every: int
  export_steps: Tuple[int, ...] = ()


@dataclasses.dataclass(frozen=True)
class Execution:
  """How the run executes, which may change on resume (not in the record):
  the `tf.distribute` strategy, where the front end runs ("data" or
  "model"), caching front-end outputs, XLA."""
  strategy: str
  placement: str
  cache: bool
  jit_compile: bool


@dataclasses.dataclass(frozen=True)
class RunSpec:
  """A pre-training run, resolved and checked.

  Attributes:
    source: the source object (`sources.Source` or a folder).
    modality: its modality.
    slicing: how its inputs are cut (only `normalize` for frames).
    frontend: the front end.
    loss: the loss, bound to `num_patches` (`loss.num_outputs` is known).
    num_patches: n, the patches per example.
    network, schedule, execution: as above.
    precision: the Keras dtype policy (`s2l.precision`).
    batch_size: global batch size.
    seed: seed of weights, data order, permutations and noise.
    data_dir: TFDS data directory (None: TFDS's default).
    train_examples: pre-train on the first examples of the training split
      only (None: all of it).
  """
  source: Any
  modality: modalities.Modality
  slicing: patches_lib.Slicing
  frontend: Frontend
  loss: losses.PermutationLoss
  num_patches: int
  network: Network
  schedule: Schedule
  execution: Execution
  precision: str
  batch_size: int
  seed: int
  data_dir: Optional[str]
  train_examples: Optional[int] = None

  @property
  def grid(self):
    """(nx, ny) of the patches as laid out for a person to look at."""
    if self.modality.frames_are_patches:
      return (1, 1)
    return (self.slicing.nx, self.slicing.ny)

  def record(self, patch_shape: Sequence[int]) -> Dict:
    """The run's `run.json` (without `encoder_step`), given the patch shape
    the traced pipeline gives."""
    return {
        "source": run_record.describe_source(self.source),
        "slicing": run_record.describe(self.slicing),
        "frontend": run_record.describe(self.frontend),
        "loss": run_record.describe(self.loss),
        "network": {"num_patches": self.num_patches,
                    "patch_shape": list(patch_shape),
                    "num_outputs": self.loss.num_outputs,
                    **dataclasses.asdict(self.network)},
        "precision": self.precision,
        "learning_rate": self.schedule.learning_rate,
        "batch_size": self.batch_size,
        "train_steps": self.schedule.train_steps,
        "steps_per_checkpoint": self.schedule.steps_per_checkpoint,
        "eval_batches": self.schedule.eval_batches, "seed": self.seed,
        "data_dir": self.data_dir, "train_examples": self.train_examples}


_POSITIVE_INTS = ("batch_size", "train_steps", "steps_per_checkpoint",
                  "eval_batches", "log_every", "embedding_size")


def check_knobs(**knobs) -> None:
  """Checks `train`'s numeric arguments and precision before anything is
  built.

  Raises:
    ValueError: naming the argument and its value.
  """
  for name in _POSITIVE_INTS:
    checks.positive("train", name, knobs[name], integer=True)
  for name in ("learning_rate", "width"):
    checks.positive("train", name, knobs[name])
  seed, depth, dropout = knobs["seed"], knobs["depth"], knobs["dropout"]
  checks.require("train", "seed", seed, checks.is_integer(seed, 0),
                 "a non-negative integer")
  checks.require("train", "depth", depth,
                 checks.is_integer(depth, 1) and depth <= 5,
                 "an integer from 1 to 5 (AlexNet's convolutions)")
  checks.require("train", "dropout", dropout,
                 checks.is_number(dropout) and 0 <= dropout < 1,
                 "a number in [0, 1)")
  precision_lib.check("train", "precision", knobs["precision"])
  if knobs["train_steps"] % knobs["steps_per_checkpoint"]:
    raise ValueError(f"train_steps ({knobs['train_steps']}) must be a "
                     "multiple of steps_per_checkpoint "
                     f"({knobs['steps_per_checkpoint']}).")
  _check_export_steps(knobs.get("export_steps", ()), knobs["train_steps"],
                      knobs["steps_per_checkpoint"])


def _check_export_steps(steps, train_steps: int,
                        steps_per_checkpoint: int) -> None:
  """Each export step is a checkpoint step before the last (the last step's
  encoder is always exported)."""
  for step in steps:
    if not (checks.is_integer(step, 1) and step < train_steps and
            step % steps_per_checkpoint == 0):
      raise ValueError(
          f"train.export_steps holds {step!r}: each must be a multiple of "
          f"steps_per_checkpoint ({steps_per_checkpoint}) below train_steps "
          f"({train_steps}); the last step's encoder is exported anyway.")


# `train`'s arguments, grouped (more than ten: one per part of a run).
def resolve(source, slicing: patches_lib.Slicing,
            frontend: Optional[Frontend], loss, network: Network,
            schedule: Schedule, execution: Execution, precision: str,
            batch_size: int, seed: int,
            data_dir: Optional[str],
            train_examples: Optional[int] = None) -> RunSpec:
  """`train`'s arguments as a checked `RunSpec`; reads no data.

  Args:
    source: a registered source's name or a source object.
    slicing, frontend (None: the modality's), loss (an object or its
      registered name), network, schedule, execution, precision,
      batch_size, seed, data_dir, train_examples: as `s2l.training.train`
      takes them.

  Raises:
    ValueError: for a knob out of range, an unknown source or loss, or a
      placement the source cannot use, naming it.
  """
  check_knobs(batch_size=batch_size, seed=seed, precision=precision,
              **dataclasses.asdict(network), **dataclasses.asdict(schedule))
  if train_examples is not None:
    checks.positive("train", "train_examples", train_examples, integer=True)
  source = sources.resolve(source)
  modality = modalities.get(source.modality)
  frontend = modality.frontend(frontend)
  model_inputs.check_placement(execution.placement, source.modality,
                               frontend, slicing)
  loss = losses.get(loss)
  num_patches = modality.num_patches(slicing, frontend)
  # The data says how many patches there are; the loss learns it here.
  loss.bind(num_patches)
  # XLA cannot compile the labels' run-time check; the pipeline makes them.
  loss.check_labels = not execution.jit_compile
  return RunSpec(source=source, modality=modality, slicing=slicing,
                 frontend=frontend, loss=loss, num_patches=num_patches,
                 network=network, schedule=schedule, execution=execution,
                 precision=precision, batch_size=batch_size, seed=seed,
                 data_dir=data_dir, train_examples=train_examples)


@dataclasses.dataclass(frozen=True)
class DataSide:
  """What a probe needs of a finished run, rebuilt from its `run.json`:
  the pre-training source, its modality, slicing, front end and data
  directory."""
  source: Any
  modality: modalities.Modality
  slicing: patches_lib.Slicing
  frontend: Frontend
  data_dir: Optional[str]


def from_record(record: Dict) -> DataSide:
  """The data side of a run from its record (`run_record.read`)."""
  source = run_record.build_source(record["source"])
  return DataSide(source=source, modality=modalities.get(source.modality),
                  slicing=run_record.build(record["slicing"]),
                  frontend=run_record.build(record["frontend"]),
                  data_dir=record["data_dir"])
