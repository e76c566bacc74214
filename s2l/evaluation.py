r"""Downstream probes of a pre-trained encoder (paper sections 2.3, 3).

The command line is `python -m s2l.evaluate` (`s2l/evaluate.py`).

Reads the pre-training run in `model_dir`: its record (`RUN/run.json`, see
`s2l.run_record`) gives the data source, slicing and front end, so the probe
sees the patches the encoder was trained on, unshuffled; its exported encoder
(`model_dir/encoder`, float32 embeddings whatever the run's precision) is
frozen and probed on every downstream task of the source, for each number of
labelled examples and seed, next to the baselines, and the results are
written as JSON in `model_dir/probe.json`:

    {"source": ..., "results": {task: {baseline: {num_examples:
        {"metric": "accuracy", "values": [per seed], "mean": m, "std": s}}}}}

Baselines: "pretrained" (the frozen encoder), "random" (the same encoder
untrained and frozen: the paper's Random Embedding, taken from the run's own
initial weights, `RUN/encoder_init`) and "supervised" (the same architecture
trained end to end on the labelled examples, in the run's precision:
"without pre-training" in figure 3). Each seed draws its own labelled
examples from the training split, at random and stratified by class
(`probe.labelled_subset`), and its own head initialisation and batch order;
the scores are on the test split (the validation split for sources without
labelled test examples).
`evaluate.source` probes on another source than the pre-training one, as
ImageNet → VOC 2012 in the paper's table 4.

The JSON also describes the pre-training (`"pretraining"`: loss with its
label, slicing, steps), its held-out pretext metrics at the last evaluation (`"upstream"`:
partial ranks and exact permutation accuracy, read from the run's
`validation` summaries), which `s2l.report` lays out as the paper's tables
and figures, and each encoder's collapse diagnostics on the labelled pool
(`"representation"`: dead units and effective dimension, see
`s2l.diagnostics`).
"""

import os
from typing import Dict, Optional, Sequence, Tuple

from absl import logging
import gin
import numpy as np
import tensorflow as tf

from s2l import atomic
from s2l import cells
from s2l import checks
from s2l import configurables  # pylint: disable=unused-import (gin names)
from s2l import diagnostics
from s2l import events
from s2l import losses
from s2l import probe
from s2l import run_directory
from s2l import run_record
from s2l import run_spec
from s2l.data import modalities
from s2l.data import pipeline
from s2l.data import sources
from s2l.models import cfn

BASELINES = ("pretrained", "random", "supervised")
RESULTS_FILE = "probe.json"
# Beside the results: each finished cell, kept as it finishes (`s2l.cells`).
CELLS_SUFFIX = ".cells.jsonl"


def task_labels(source, split: str, task: sources.Task,
                count: Optional[int], data_dir: Optional[str]) -> np.ndarray:
  """Labels of a split's first `count` examples, in the pipelines' order.

  Read from the raw examples, without the front end: the embeddings do not
  depend on the task, so they are computed once and paired with these.
  """
  examples = source.load(split, data_dir)
  if count is not None:
    examples = examples.take(count)
  return np.concatenate([
      batch.numpy() for batch in examples.map(task.label).batch(1024)])


def upstream_metrics(model_dir: str, steps_per_checkpoint: int,
                     at_step: Optional[int] = None) -> Dict[str, float]:
  """Held-out pretext metrics at the last evaluation of a training run, or
  at the evaluation of step `at_step`.

  Read from the Keras summaries in `model_dir/validation`: `s2l.train`
  evaluates its fixed held-out batches (`train.eval_batches`) at the end of
  every Keras epoch of `steps_per_checkpoint` steps.

  Returns:
    {"step": the train step of that evaluation, "partial_ranks": ...,
     "exact_permutation": ..., "loss": ...}; empty if the run wrote none.
  """
  curves = events.scalars(model_dir, "validation", prefix="epoch_")
  if at_step is not None:  # Keras numbers evaluations by epoch, from 0.
    epoch = at_step // steps_per_checkpoint - 1
    kept = {tag: [i for i, step in enumerate(steps) if step == epoch]
            for tag, (steps, _) in curves.items()}
    curves = {tag: ([epoch] * len(kept[tag]),
                    [curves[tag][1][i] for i in kept[tag]])
              for tag in curves if kept[tag]}
  last = {tag[len("epoch_"):]: events.last(curve)
          for tag, curve in curves.items()}
  metrics = {name: value for name, (_, value) in last.items()}
  if last:  # Keras numbers evaluations by epoch, from 0.
    epoch = max(step for step, _ in last.values())
    metrics["step"] = (epoch + 1) * steps_per_checkpoint
  return metrics


def pretraining_description(record: Dict, source) -> Dict:
  """The pretext setting of a run record, as `s2l.report` reads it.

  Args:
    record: the run's record (`s2l.run_record`).
    source: its pre-training source, built (a folder is checked once).
  """
  loss = losses.by_class_name(record["loss"]["class"])
  args = record["loss"]["args"]
  modality = modalities.get(source.modality)
  return {
      "source": source.name,
      "loss": record["loss"]["class"],
      # What the report needs to know of the loss, so that it imports none:
      # its label, its column among the paper's (None: after them), and the
      # size of its fixed permutation set (None: all n! orders).
      "loss_label": loss.label,
      "loss_column": loss.column,
      "permutation_set": args.get("num_permutations"),
      "slicing": modality.slicing_description(record["slicing"]["args"]),
      # Video: the frames per clip, its patches (None for other inputs).
      "frames": (record["frontend"]["args"].get("num_frames")
                 if modality.frames_are_patches else None),
      "train_steps": record["train_steps"],
      "learning_rate": record.get("learning_rate"),
      "seed": record.get("seed"),
      "train_examples": record.get("train_examples"),
      # The CFN's channel multiplier (1.0 is AlexNet's).
      "width": record["network"].get("width"),
  }


def _stats(values: Sequence[float]) -> Dict:
  return {"values": [float(v) for v in values],
          "mean": float(np.mean(values)), "std": float(np.std(values))}


def _summary(per_seed: Sequence[Dict[str, float]]) -> Dict:
  """One results cell from the `probe.scores` of each seed.

  The first metric is the task's headline (`probe.METRICS`); any others
  (the micro AUC of multi-label tasks) go under "also". The epochs of heads
  chosen on the validation split (`probe.HEAD_EPOCH`) go under
  "head_epochs", one per seed.
  """
  epochs = [int(s[probe.HEAD_EPOCH]) for s in per_seed
            if probe.HEAD_EPOCH in s]
  per_seed = [{k: v for k, v in s.items() if k != probe.HEAD_EPOCH}
              for s in per_seed]
  metric, *others = per_seed[0]
  cell = {"metric": metric, **_stats([s[metric] for s in per_seed])}
  if others:
    cell["also"] = {name: _stats([s[name] for s in per_seed])
                    for name in others}
  if epochs:
    cell["head_epochs"] = epochs
  return cell


def _floats(scores: Dict) -> Dict[str, float]:
  """A cell's scores as plain floats (JSON)."""
  return {name: float(value) for name, value in scores.items()}


def _log(task: str, baseline: str, count: int, cell: Dict) -> None:
  logging.info("%s %s %d labels: %s %.4f ± %.4f", task, baseline, count,
               cell["metric"], cell["mean"], cell["std"])


def _check_knobs(**knobs) -> None:
  """Checks `evaluate`'s numeric arguments before anything is read.

  Raises:
    ValueError: naming the argument and its value.
  """
  for name, minimum, kind in (("num_examples", 1, "positive integers"),
                              ("seeds", 0, "non-negative integers")):
    values = knobs[name]
    checks.require(
        "evaluate", name, values,
        not isinstance(values, (str, bytes)) and hasattr(values, "__len__")
        and len(values) > 0 and
        all(checks.is_integer(v, minimum) for v in values),
        f"a non-empty tuple of {kind}")
  for name in ("epochs", "supervised_epochs", "hidden_units", "batch_size"):
    checks.positive("evaluate", name, knobs[name], integer=True)
  for name in ("labelled_pool", "test_examples"):
    checks.require("evaluate", name, knobs[name],
                   knobs[name] is None or checks.is_integer(knobs[name], 1),
                   "a positive integer or None")
  checks.positive("evaluate", "learning_rate", knobs["learning_rate"])
  checks.require("evaluate", "score_split", knobs["score_split"],
                 knobs["score_split"] in (None,) + SCORE_SPLITS,
                 f"None or one of {SCORE_SPLITS}")
  checks.require("evaluate", "head_epoch", knobs["head_epoch"],
                 knobs["head_epoch"] in HEAD_EPOCHS,
                 f"one of {HEAD_EPOCHS}")
  checks.require("evaluate", "labelled_subsets", knobs["labelled_subsets"],
                 knobs["labelled_subsets"] in probe.SUBSETS,
                 f"one of {probe.SUBSETS}")
  checks.require("evaluate", "layer", knobs["layer"],
                 knobs["layer"] in cfn.PROBED_LAYERS,
                 f"one of {sorted(cfn.PROBED_LAYERS)}")


SCORE_SPLITS = ("test", "validation")
# Which head a probe keeps: the one after its last epoch (the paper's), or
# the one whose validation score was best (`probe.train_head`'s select_on).
HEAD_EPOCHS = ("last", "validation")


def scored_split(source, score_split: Optional[str]) -> str:
  """The split `evaluate` scores on (`score_split`, or the default).

  Without labelled test examples (VOC 2012, something-something v2), the
  validation split is the test set, and nothing may be selected on it.

  Raises:
    ValueError: for a split that is not among `SCORE_SPLITS`, or that the
      source lacks, or validation asked of a source whose test set it is.
  """
  if score_split is None:
    return "test" if "test" in source.splits else "validation"
  if score_split not in SCORE_SPLITS:
    raise ValueError(f"evaluate.score_split must be None or one of "
                     f"{SCORE_SPLITS}, got {score_split!r}.")
  if "test" not in source.splits:
    raise ValueError(
        f"{source.name} has no labelled test split: its validation split is "
        "its test set, so evaluate.score_split cannot be set (choose on "
        "another source, or leave it None).")
  return score_split


def random_encoder(model_dir: str, pretrained: tf.keras.Model
                   ) -> Tuple[tf.keras.Model, str]:
  """The untrained baseline: the run's own initial weights if it kept them.

  `s2l.train` exports the encoder at step 0 (`RUN/encoder_init`), so the
  baseline differs from the pre-trained encoder by the pre-training alone.
  Runs made before that get a fresh draw of the same architecture (seed 0).

  Returns:
    (frozen encoder, "run initialisation" or "fresh initialisation, seed 0").
  """
  init_dir = os.path.join(model_dir, run_directory.INIT_ENCODER_DIR)
  if tf.io.gfile.exists(init_dir):
    encoder, origin = tf.keras.models.load_model(init_dir, compile=False), \
        "run initialisation"
  else:
    logging.warning("%s has no %s: the random baseline is a fresh draw.",
                    model_dir, run_directory.INIT_ENCODER_DIR)
    tf.keras.utils.set_random_seed(0)
    encoder = tf.keras.models.clone_model(pretrained)
    origin = "fresh initialisation, seed 0"
  encoder.trainable = False
  return encoder, origin


# The configurable root of the probes: one argument per knob a gin binding
# sets (hence more than ten).
@gin.configurable(denylist=["model_dir"])
def evaluate(model_dir: str,
             tasks: Optional[Sequence[str]] = None,
             num_examples: Sequence[int] = (500, 1000),
             seeds: Sequence[int] = (0, 1, 2),
             baselines: Sequence[str] = ("pretrained", "random"),
             head: Optional[str] = None,
             epochs: int = 100,
             head_epoch: str = "last",
             supervised_epochs: int = 30,
             learning_rate: float = 1e-3,
             hidden_units: int = 512,
             batch_size: int = 64,
             labelled_pool: Optional[int] = 20000,
             labelled_subsets: str = "stratified",
             standardize: bool = True,
             test_examples: Optional[int] = None,
             score_split: Optional[str] = None,
             source: Optional[str] = None,
             data_dir: Optional[str] = None,
             encoder_step: Optional[int] = None,
             layer: str = "embedding",
             output: Optional[str] = None) -> Dict:
  """Probes the encoder of `model_dir` on every downstream task.

  Args:
    model_dir: a directory written by `s2l.train`, with its run record.
    tasks: tasks to probe; all of the source's if None.
    num_examples: numbers of labelled training examples (data regimes).
    seeds: seeds per setting; results give their mean and std. A seed draws
      the labelled examples (`probe.labelled_subset`: at random, stratified
      by class for classification), the head's initialisation and its batch
      order.
    baselines: any of "pretrained", "random", "supervised".
    head: "mlp" or "linear"; the modality's default (section 2.3) if None.
    epochs: head training epochs on the embeddings.
    head_epoch: "last" keeps each head after its last epoch; "validation"
      keeps it at the epoch (every `probe.SELECT_EVERY`-th) whose score on
      the source's validation split was best, then scores it on test. The
      supervised baseline keeps its last epoch either way. "validation"
      needs a test split other than the validation split.
    supervised_epochs: epochs of the end-to-end supervised baseline.
    learning_rate: Adam's learning rate for heads and the baseline.
    hidden_units: MLP width.
    batch_size: batch of the supervised baseline and of embedding.
    labelled_pool: the labelled examples are drawn from the first
      `labelled_pool` examples of the training split (None: all of it); they
      are embedded once per encoder.
    labelled_subsets: "stratified" (a random draw per seed) or "first" (the
      first examples of the pool whatever the seed), see
      `probe.labelled_subset`.
    standardize: standardise (and clip) embeddings before the head; see
      `probe.train_head`.
    test_examples: score on the first examples of the test split only.
    score_split: the split the probes are scored on: None for the test
      split (the validation split for sources without labelled test
      examples), or "validation" to choose hyperparameters on the probes
      without looking at the test split (`s2l.selection`).
    source: the downstream data source; the pre-training one if None (the
      paper's images are pre-trained on ImageNet and probed on VOC 2012).
    data_dir: its TFDS data directory; the pre-training one if None.
    encoder_step: probe the encoder the run exported at this earlier step
      (`train.export_steps`, `RUN/encoder_steps/<step>`) instead of its
      last; the run need not be finished.
    layer: the layer of the frozen encoders the heads read, one of
      `cfn.PROBED_LAYERS`: "embedding" (fc7, the paper's) or
      "patch_features" (every patch's fc6 features, concatenated: what the
      embedding is computed from).
    output: where to write the JSON; `model_dir/probe.json` if None (the
      experiment scripts write one file per table next to each other).

  Returns:
    The results dict, also written to `output`.
  """
  _check_knobs(num_examples=num_examples, seeds=seeds, epochs=epochs,
               supervised_epochs=supervised_epochs,
               learning_rate=learning_rate, hidden_units=hidden_units,
               batch_size=batch_size, labelled_pool=labelled_pool,
               labelled_subsets=labelled_subsets, test_examples=test_examples,
               score_split=score_split, layer=layer, head_epoch=head_epoch)
  for baseline in baselines:
    if baseline not in BASELINES:
      raise ValueError(f"baselines must be among {BASELINES}, got "
                       f"{baseline!r}.")
  record, encoder_dir = _encoder_to_probe(model_dir, encoder_step)
  run = run_spec.from_record(record)
  source = sources.resolve(source) if source else run.source
  head = head or modalities.get(source.modality).probe_head
  data = dict(slicing=run.slicing, frontend=run.frontend,
              data_dir=data_dir or run.data_dir, batch_size=batch_size)
  tasks = _checked_tasks(source, tasks)
  test_split = scored_split(source, score_split)
  counts = {"train": labelled_pool, test_split: test_examples}
  if head_epoch == "validation":
    _check_selection_split(source, test_split)
    counts["validation"] = None
  labels = {(name, split): task_labels(source, split, source.tasks[name],
                                       count, data["data_dir"])
            for name in tasks for split, count in counts.items()}
  pool_size = len(labels[tasks[0], "train"])
  if max(num_examples) > pool_size:
    raise ValueError(
        f"evaluate.num_examples asks for {max(num_examples)} labelled "
        f"examples but the pool holds {pool_size} ({source.name} train split"
        + (f", first {labelled_pool}" if labelled_pool else "") + ").")

  output = output or os.path.join(model_dir, RESULTS_FILE)
  has_init = run_directory.has_initial_encoder(model_dir)
  store = cells.CellStore(f"{output}{CELLS_SUFFIX}", {
      "encoder_step": record["encoder_step"], "source": source.name,
      "head": head, "epochs": epochs, "supervised_epochs": supervised_epochs,
      "learning_rate": learning_rate, "hidden_units": hidden_units,
      "batch_size": batch_size, "labelled_pool": pool_size,
      "labelled_subsets": labelled_subsets, "standardize": standardize,
      "test_split": test_split, "test_examples": test_examples,
      "random_from_run": has_init, "layer": layer,
      # Only where it differs from the default: earlier cell files stay valid.
      **({"head_epoch": head_epoch} if head_epoch != "last" else {})})
  probes = _Probes(source, data, labels, store, head=head, epochs=epochs,
                   supervised_epochs=supervised_epochs,
                   learning_rate=learning_rate, hidden_units=hidden_units,
                   standardize=standardize, precision=record["precision"],
                   head_epoch=head_epoch)
  frozen = [name for name in ("pretrained", "random") if name in baselines]
  needs = [("representation", name) for name in frozen] + [
      (task_name, name, count, seed) for task_name in tasks
      for name in baselines for count in num_examples for seed in seeds]
  reused = store.count(needs)
  logging.info("%d of %d probe cells to do; %d reused from %s.",
               len(needs) - reused, len(needs), reused, store.path)
  random_origin = probes.load_encoders(model_dir, encoder_dir, baselines,
                                       layer)
  if store.count(k for k in needs if k[1] in frozen) < len(
      [k for k in needs if k[1] in frozen]):
    probes.embed(frozen, counts, tasks[0])
  representation = {name: probes.representation(name) for name in frozen}
  results = {}
  for task_name in tasks:
    results[task_name] = probes.task(
        source.tasks[task_name], baselines, num_examples, seeds,
        labelled_subsets, test_split, test_examples)
  report = {"source": source.name, "head": head, "layer": layer,
            "head_epoch": head_epoch,
            "model_dir": model_dir,
            "encoder_step": record["encoder_step"],
            "test_split": test_split,
            "labelled_pool": pool_size,
            "labelled_subsets": labelled_subsets,
            "standardize": standardize,
            "random_baseline": random_origin,
            "pretraining": pretraining_description(record, run.source),
            "upstream": upstream_metrics(model_dir,
                                         record["steps_per_checkpoint"],
                                         encoder_step),
            "representation": representation,
            "cells_reused": reused,
            "results": results}
  if os.path.dirname(output):
    tf.io.gfile.makedirs(os.path.dirname(output))
  atomic.write_json(output, report, indent=2)
  return report


def _encoder_to_probe(model_dir: str, encoder_step: Optional[int]
                      ) -> Tuple[Dict, str]:
  """(the run's record, with `encoder_step` the step probed; the encoder's
  directory): the last encoder of a finished run, or the one exported at
  `encoder_step`.

  Raises:
    FileNotFoundError: naming the steps exported, for a step that was not.
  """
  if encoder_step is None:
    return (finished_record(model_dir),
            os.path.join(model_dir, run_directory.ENCODER_DIR))
  checks.require("evaluate", "encoder_step", encoder_step,
                 checks.is_integer(encoder_step, 1),
                 "None or a positive step of train.export_steps")
  encoder_dir = run_directory.step_encoder_dir(model_dir, encoder_step)
  if not tf.io.gfile.exists(encoder_dir):
    steps = run_directory.exported_steps(model_dir)
    raise FileNotFoundError(
        f"{model_dir} exported no encoder at step {encoder_step} "
        f"(evaluate.encoder_step); it exported "
        f"{steps or 'none'} (train.export_steps), besides its last step's.")
  return {**run_record.read(model_dir), "encoder_step": encoder_step}, \
      encoder_dir


def finished_record(model_dir: str) -> Dict:
  """The record of a run whose encoder was exported at its last step.

  Raises:
    FileNotFoundError: without an exported encoder.
    run_record.RecordError: for an encoder of another step than the last.
  """
  encoder_dir = os.path.join(model_dir, run_directory.ENCODER_DIR)
  if not tf.io.gfile.exists(encoder_dir):
    raise FileNotFoundError(
        f"no exported encoder in {encoder_dir}: run s2l.train to completion "
        f"with --model_dir={model_dir} first.")
  record = run_record.read(model_dir)
  if record.get("encoder_step") != record["train_steps"]:
    raise run_record.RecordError(
        f"{encoder_dir} was exported at step {record.get('encoder_step')}, "
        f"but the run is set for {record['train_steps']} steps (a run "
        "stopped, or resumed and diverged, before its export): rerun its "
        "s2l.train command to finish it, or probe another run.")
  return record


def _check_selection_split(source, test_split: str) -> None:
  """Raises ValueError where heads cannot be chosen on the validation split:
  the source has none, or the probes are scored on it."""
  if "validation" not in source.splits:
    raise ValueError(
        f"evaluate.head_epoch = 'validation' chooses each head's epoch on the "
        f"validation split, which {source.name} does not have; use "
        "head_epoch = 'last'.")
  if test_split == "validation":
    raise ValueError(
        "evaluate.head_epoch = 'validation' chooses each head's epoch on the "
        "validation split, which this evaluation scores on (score_split = "
        "'validation', or a source without a labelled test split): a split "
        "may not both choose and score. Use head_epoch = 'last'.")


def _checked_tasks(source, tasks: Optional[Sequence[str]]) -> list:
  """The tasks to probe (all of the source's if None), each one it has."""
  tasks = list(tasks or source.tasks)
  for task_name in tasks:
    if task_name not in source.tasks:
      raise ValueError(f"{source.name} has tasks {sorted(source.tasks)}, got "
                       f"{task_name!r}.")
  return tasks


class _Probes:
  """The probe cells of one evaluation, each kept in `store` as it finishes.

  Args:
    source: the downstream source.
    data: the downstream pipeline's slicing, front end, data_dir and batch
      size (`pipeline.downstream_dataset`'s keywords).
    labels: {(task, split): labels of the labelled pool or the test split}.
    store: the evaluation's `cells.CellStore`.
    head, epochs, supervised_epochs, learning_rate, hidden_units,
      standardize, head_epoch: the probe settings (see `evaluate`).
    precision: the run's precision, for the supervised baseline.
  """

  # The probe settings of `evaluate`, one per knob (hence more than ten).
  def __init__(self, source, data: Dict, labels: Dict, store, *, head: str,
               epochs: int, supervised_epochs: int, learning_rate: float,
               hidden_units: int, standardize: bool, precision: str,
               head_epoch: str):
    self.source, self.data, self.labels, self.store = (source, data, labels,
                                                       store)
    self.head, self.epochs = head, epochs
    self.supervised_epochs = supervised_epochs
    self.learning_rate, self.hidden_units = learning_rate, hidden_units
    self.standardize, self.precision = standardize, precision
    self.head_epoch = head_epoch
    self.encoders, self.embeddings = {}, {}

  def load_encoders(self, model_dir: str, encoder_dir: str,
                    baselines: Sequence[str], layer: str):
    """Loads the frozen encoders (the pre-trained one from `encoder_dir`),
    each cut at `layer`; where the random one comes from."""
    pretrained = tf.keras.models.load_model(encoder_dir, compile=False)
    pretrained.trainable = False
    self.encoders["pretrained"], random_origin = cfn.probed_model(
        pretrained, layer), None
    if "random" in baselines:
      random, random_origin = random_encoder(model_dir, pretrained)
      self.encoders["random"] = cfn.probed_model(random, layer)
    return random_origin

  def embed(self, frozen: Sequence[str], counts: Dict, task_name: str):
    """Embeds the pool and the test split once per frozen encoder
    (embeddings do not depend on the task)."""
    self.embeddings = {
        (name, split): probe.embed(
            self.encoders[name], pipeline.downstream_dataset(
                self.source, split, task_name, num_examples=count,
                **self.data))[0]
        for name in frozen for split, count in counts.items()}

  def representation(self, name: str) -> Dict:
    """The collapse diagnostics of a frozen encoder's pool embeddings."""
    found = self.store.get_or_put(
        ("representation", name),
        lambda: diagnostics.collapse(self.embeddings[name, "train"]))
    logging.info("%s embedding: %.0f%% dead units, effective dimension %.1f",
                 name, 100 * found["dead_fraction"],
                 found["effective_dimension"])
    return found

  def _frozen(self, task, name, count, seed, subset, test):
    train = lambda: (self.embeddings[name, "train"][subset],
                     self.labels[task.name, "train"][subset])
    select_on = lambda: None if self.head_epoch == "last" else (
        self.embeddings[name, "validation"],
        self.labels[task.name, "validation"])
    return self.store.get_or_put((task.name, name, count, seed), lambda: (
        _floats(probe.train_head(
            task, self.head, train(), test, seed, self.epochs,
            learning_rate=self.learning_rate,
            hidden_units=self.hidden_units, standardize=self.standardize,
            select_on=select_on()))))

  def _supervised(self, task, count, seed, subset, test_ds):
    return self.store.get_or_put(
        (task.name, "supervised", count, seed), lambda: _floats(
            probe.train_supervised(
                task, self.encoders["pretrained"], self.head,
                pipeline.downstream_dataset(
                    self.source, "train", task.name, indices=subset,
                    shuffle_buffer=count, seed=seed, **self.data),
                test_ds, seed, self.supervised_epochs, self.learning_rate,
                self.hidden_units, self.precision)))

  def task(self, task, baselines: Sequence[str], num_examples: Sequence[int],
           seeds: Sequence[int], labelled_subsets: str, test_split: str,
           test_examples: Optional[int]) -> Dict:
    """{baseline: {count: summary over seeds}} of one task."""
    pool = self.labels[task.name, "train"]
    subsets = {(count, seed): probe.labelled_subset(task, pool, count, seed,
                                                    labelled_subsets)
               for count in num_examples for seed in seeds}
    results = {}
    for name in baselines:
      if name == "supervised":
        test_ds = pipeline.downstream_dataset(
            self.source, test_split, task.name, num_examples=test_examples,
            **self.data)
        cell = lambda count, seed, test_ds=test_ds: self._supervised(
            task, count, seed, subsets[count, seed], test_ds)
      else:
        test = (self.embeddings.get((name, test_split)),
                self.labels[task.name, test_split])
        cell = lambda count, seed, name=name, test=test: self._frozen(
            task, name, count, seed, subsets[count, seed], test)
      results[name] = {}
      for count in num_examples:
        results[name][str(count)] = _summary([cell(count, seed)
                                              for seed in seeds])
        _log(task.name, name, count, results[name][str(count)])
    return results


def run_dir(path: str) -> str:
  """The training run of `path` (`run_directory.run_of`)."""
  return run_directory.run_of(path)
