"""tf.data pipelines for the pretext and downstream tasks (sections 2.1, 2.3).

One pipeline serves every source and modality:

    raw examples -> front end (spectrogram / square image / sampled frames)
    -> [cache] -> shuffle -> repeat -> patches -> permutation -> batch
    -> prefetch

`pretext_dataset` yields `(patches [B, n, *patch], ranks [B, n] int32)`: the
shuffled patches and the ranks that the losses of `s2l.losses` take as y_true
(also for the fixed-permutation baseline, whose loss looks the class up).
With `placement="model"` (audio) it stops before the front end and yields
raw waveforms and per-example seeds, which `model_inputs.PretextInputs`
turns into the same patches and ranks inside the model.
`downstream_dataset` yields the same patches unshuffled (identity
permutation) with a task label. Every random choice is a stateless op seeded
from `(seed, example counter)`, so a pipeline is reproducible and draws new
permutations at every epoch.
"""

from typing import Callable, Optional, Sequence, Union

import numpy as np
import tensorflow as tf

from s2l import permutations
from s2l.data import modalities
from s2l.data import model_inputs
from s2l.data import patches as patches_lib
from s2l.data import shuffling
from s2l.data import sources as sources_lib

AUTOTUNE = tf.data.AUTOTUNE
Frontend = Callable[[tf.Tensor], tf.Tensor]


def num_patches(source, slicing: patches_lib.Slicing,
                frontend: Optional[Frontend] = None) -> int:
  """n, the patches per example: the slicing's tiles, or the video front
  end's frames (video frames are the patches, the slicing is not used)."""
  source = sources_lib.resolve(source)
  return modalities.get(source.modality).num_patches(slicing, frontend)


def _inputs(source, split: str, frontend: Optional[Frontend],
            data_dir: Optional[str], max_examples: Optional[int],
            cache: Union[bool, str], keep: Callable,
            indices: Optional[Sequence[int]] = None) -> tf.data.Dataset:
  """Front-end outputs of a split as (inputs, keep(example)) pairs.

  `indices` keeps only those examples of the split (positions in its fixed
  order), before the front end runs.
  """
  frontend = modalities.get(source.modality).frontend(frontend)
  ds = source.load(split, data_dir)
  if max_examples is not None:
    ds = ds.take(max_examples)
  if indices is not None:
    indices = np.asarray(indices, np.int64)
    keep_mask = np.zeros(int(indices.max()) + 1 if len(indices) else 0, bool)
    keep_mask[indices] = True
    ds = ds.take(len(keep_mask)).enumerate().filter(
        lambda i, _: tf.gather(keep_mask, i)).map(lambda _, ex: ex)
  ds = ds.map(lambda ex: (frontend(ex[source.input_feature]), keep(ex)),
              num_parallel_calls=AUTOTUNE)
  if cache:
    # Front ends are deterministic, so their (costly) outputs can be reused
    # across epochs; patches and permutations stay random per epoch.
    ds = ds.cache("" if cache is True else cache)
  return ds


def _example_seed(seed: int, counter: tf.Tensor) -> tf.Tensor:
  return tf.stack([tf.constant(seed, tf.int64), counter])


# Keyword-only knobs of one pipeline (more than ten: each a stage's setting).
def pretext_dataset(source, split: str = "train", *,
                    slicing: patches_lib.Slicing,
                    batch_size: int = 32,
                    frontend: Optional[Frontend] = None,
                    permutation_set: Optional[
                        permutations.FixedPermutationSet] = None,
                    seed: int = 0,
                    shuffle_buffer: int = 1000,
                    repeat: bool = True,
                    cache: Union[bool, str] = False,
                    max_examples: Optional[int] = None,
                    data_dir: Optional[str] = None,
                    placement: str = "data") -> tf.data.Dataset:
  """Shuffled patches and their ranks, for upstream training.

  Args:
    source: a `sources.Source`, its registered name, or an `AudioFolder`.
    split: "train", "validation" or "test".
    slicing: how inputs are cut into n patches (ignored for video, whose
      frames are the patches).
    batch_size: examples per batch (the last partial batch is dropped).
    frontend: raw input -> image-like tensor; the modality's default if None
      (with placement "model", the layer applies it).
    permutation_set: draw permutations from this fixed set (the Fixed
      Permutation baseline) instead of all n! orders (with placement
      "model", the layer draws them).
    seed: seed of the example order, the permutations and the jitter.
    shuffle_buffer: examples in the shuffle buffer; 0 keeps the data order.
    repeat: cycle over the split forever (training) or stop after one pass.
    cache: cache front-end outputs in memory (True) or in this file prefix.
    max_examples: use only the first examples of the split.
    data_dir: TFDS data directory.
    placement: "data" to run the front end, patches and permutations here;
      "model" (audio only) to leave them to `model_inputs.PretextInputs`.

  Returns:
    Dataset of (patches [B, n, *patch_shape] float32, ranks [B, n] int32);
    with placement "model", of {"audio": [B, num_samples] raw waveforms in
    their stored dtype, "seed": [B, 2] int64}, the seed each example's
    permutation is drawn from on the "data" path.

  Raises:
    ValueError: for a placement the source or settings cannot use, or
      waveforms of varying length with placement "model".
  """
  source = sources_lib.resolve(source)
  modality = modalities.get(source.modality)
  model_inputs.check_placement(placement, source.modality, frontend, slicing)
  if placement == "model":
    # The cache then holds raw waveforms, the model's input.
    frontend = tf.identity
  ds = _inputs(source, split, frontend, data_dir, max_examples, cache,
               keep=lambda ex: 0)
  if placement == "model" and not ds.element_spec[0].shape.is_fully_defined():
    raise ValueError(
        f"frontend_placement='model' batches raw waveforms, which must share "
        f"one length; {source.name}'s have shape {ds.element_spec[0].shape}. "
        "Cut or pad them to a fixed length, or use frontend_placement='data'.")
  if shuffle_buffer:
    ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
  if repeat:
    ds = ds.repeat()

  def to_example(counter, pair):
    seeds = tf.random.experimental.stateless_split(
        _example_seed(seed, counter), 2)
    if placement == "model":
      return {model_inputs.AUDIO: pair[0], model_inputs.SEED: seeds[1]}
    patches = modality.make_patches(pair[0], slicing, seeds[0])
    shuffled = shuffling.shuffle(patches, seeds[1], permutation_set)
    return shuffled["patches"], shuffled["ranks"]

  ds = ds.enumerate().map(to_example, num_parallel_calls=AUTOTUNE)
  return ds.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE)


# Keyword-only knobs of one pipeline (more than ten: each a stage's setting).
def downstream_dataset(source, split: str, task: str, *,
                       slicing: patches_lib.Slicing,
                       batch_size: int = 32,
                       frontend: Optional[Frontend] = None,
                       num_examples: Optional[int] = None,
                       indices: Optional[Sequence[int]] = None,
                       seed: int = 0,
                       shuffle_buffer: int = 0,
                       repeat: bool = False,
                       cache: Union[bool, str] = False,
                       data_dir: Optional[str] = None) -> tf.data.Dataset:
  """Unshuffled patches and task labels, for the frozen-encoder probe.

  Args:
    source: a `sources.Source`, its registered name, or an `AudioFolder`.
    split: "train", "validation" or "test".
    task: one of `source.tasks`.
    slicing: as used for pre-training (the encoder sees the same patches).
    batch_size: examples per batch (the last batch may be smaller).
    frontend: raw input -> image-like tensor; the modality's default if None.
    num_examples: the number of labelled examples (the first of the split).
    indices: only these examples of the split (positions in its fixed
      order, as `probe.labelled_subset` draws them), kept in split order.
    seed: seed of the shuffle order and of the jitter.
    shuffle_buffer: 0 keeps the data order.
    repeat: cycle forever.
    cache: cache front-end outputs in memory (True) or in this file prefix.
    data_dir: TFDS data directory.

  Returns:
    Dataset of (patches [B, n, *patch_shape] float32, label [B] int32 for
    classification, [B] float32 for regression, [B, K] multi-hot float32).
  """
  source = sources_lib.resolve(source)
  if task not in source.tasks:
    raise ValueError(f"{source.name} has tasks {sorted(source.tasks)}, got "
                     f"{task!r}.")
  task_spec = source.tasks[task]
  modality = modalities.get(source.modality)
  ds = _inputs(source, split, frontend, data_dir, num_examples, cache,
               keep=task_spec.label, indices=indices)
  if shuffle_buffer:
    ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
  if repeat:
    ds = ds.repeat()

  def to_example(counter, pair):
    patches = modality.make_patches(pair[0], slicing,
                                    _example_seed(seed, counter))
    return shuffling.identity(patches)["patches"], pair[1]

  ds = ds.enumerate().map(to_example, num_parallel_calls=AUTOTUNE)
  return ds.batch(batch_size).prefetch(AUTOTUNE)
