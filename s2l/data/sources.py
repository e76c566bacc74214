"""Data sources: the paper's TFDS data sets and their embedded twins (section 3).

A `Source` names a TFDS data set, its modality and input feature, our split
names, and its downstream tasks. Real sources (NSynth, ImageNet, VOC 2012,
something-something v2) are read from a TFDS `data_dir` where the user has
prepared them; s2l never tries to download them itself, and says how to get
them when they are missing. Embedded sources (synthetic notes, SoundFont
notes, video, images) are TFDS builders in this package that generate their
data offline on first use.

The user audio folder (`audio_folder.AudioFolder`) offers the same interface
(`modality`, `input_feature`, `tasks`, `load(split)`), so the pipeline takes
either.
"""

import dataclasses
import functools
import importlib
from typing import Dict, Optional, Tuple

from absl import logging
import tensorflow as tf
import tensorflow_datasets as tfds

from s2l.data import modalities

TASK_KINDS = ("classification", "regression", "multilabel")


@dataclasses.dataclass(frozen=True)
class Task:
  """A downstream task: which feature holds the label and how to read it.

  Attributes:
    name: task name, e.g. "instrument_family".
    kind: "classification" (integer class), "regression" (a float) or
      "multilabel" (a list of class ids, read as a multi-hot vector).
    feature: path of the label in the example dict, e.g.
      ("instrument", "family").
    num_classes: classes of a classification or multi-label task. A
      registered source's tasks leave it unset: `Source.tasks` reads it from
      the TFDS builder's features.
  """
  name: str
  kind: str
  feature: Tuple[str, ...]
  num_classes: Optional[int] = None

  def __post_init__(self):
    if self.kind not in TASK_KINDS:
      raise ValueError(f"Task kind must be one of {TASK_KINDS}, got "
                       f"{self.kind!r}.")

  def label(self, example: Dict[str, tf.Tensor]) -> tf.Tensor:
    """The label of one example: int32 [], float32 [] or float32 [K]."""
    value = example
    for key in self.feature:
      value = value[key]
    if self.kind == "classification":
      return tf.cast(value, tf.int32)
    if self.kind == "regression":
      return tf.cast(value, tf.float32)
    one_hot = tf.one_hot(tf.cast(value, tf.int32), self.num_classes)
    return tf.reduce_max(
        tf.concat([one_hot, tf.zeros([1, self.num_classes])], axis=0), axis=0)


@dataclasses.dataclass(frozen=True)
class Source:
  """A TFDS data set as seen by s2l.

  Attributes:
    name: s2l's name for it, e.g. "nsynth" or "synthetic_notes".
    tfds_name: TFDS name, with a config if any, e.g. "voc/2012".
    modality: the name of its `s2l.data.modalities` entry ("audio", ...).
    input_feature: the raw input, e.g. "audio".
    splits: our split names ("train", "validation", "test") to TFDS's.
    task_specs: downstream tasks by name, as declared (`tasks` completes
      them).
    builder_module: module whose import registers the TFDS builder (ours).
    embedded: True if s2l generates the data itself, offline.
    how_to_get: what to tell a user whose data_dir lacks the data.
    twin: the embedded source that stands in for a real one offline (the
      one place the real <-> embedded mapping is written).
  """
  name: str
  tfds_name: str
  modality: str
  input_feature: str
  splits: Dict[str, str]
  task_specs: Dict[str, Task]
  builder_module: Optional[str] = None
  embedded: bool = False
  how_to_get: str = ""
  twin: Optional[str] = None

  @functools.cached_property
  def tasks(self) -> Dict[str, Task]:
    """The downstream tasks by name, each classification or multi-label one
    with the number of classes its TFDS builder's features declare (read from
    the builder's info, which needs no data)."""
    features = self.builder().info.features
    return {name: task if task.kind == "regression" else dataclasses.replace(
        task, num_classes=_num_classes(features, task.feature, self.name))
            for name, task in self.task_specs.items()}

  def builder(self, data_dir: Optional[str] = None) -> tfds.core.DatasetBuilder:
    if self.builder_module:
      importlib.import_module(self.builder_module)
    return tfds.builder(self.tfds_name, data_dir=data_dir)

  def load(self, split: str, data_dir: Optional[str] = None) -> tf.data.Dataset:
    """The raw examples of a split, in a fixed order (no file shuffling).

    Embedded data sets are generated on first use. Real ones must already be
    in `data_dir`: they are never downloaded from here.

    Raises:
      ValueError: for an unknown split.
      FileNotFoundError: when a real data set is not in data_dir, saying how
        to prepare it.
    """
    if split not in self.splits:
      raise ValueError(f"{self.name} has splits {sorted(self.splits)}, got "
                       f"{split!r}.")
    builder = self.builder(data_dir)
    if self.embedded:
      if not builder.is_prepared():
        logging.info("Generating %s in %s (first use, offline).",
                     self.tfds_name, builder.data_dir)
      builder.download_and_prepare(download_config=tfds.download.
                                   DownloadConfig(try_download_gcs=False))
    try:
      # No TFDS autocache: it caches a small split whole, and a read of part
      # of it (the held-out batches, a probe's labelled examples) makes
      # tf.data warn that it discards the partial cache. The pipeline caches
      # the front end's outputs itself.
      return builder.as_dataset(
          split=self.splits[split], shuffle_files=False,
          read_config=tfds.ReadConfig(try_autocache=False))
    except AssertionError as error:  # TFDS's "could not find data" error.
      raise FileNotFoundError(
          f"{self.name}: the TFDS data set {self.tfds_name!r} is not prepared"
          f" in {builder.data_dir_root}. {self.how_to_get} Then pass that "
          "directory as data_dir (or set TFDS_DATA_DIR)." + (
              f" Offline, use its embedded twin {self.twin!r}."
              if self.twin else "")) from error


def _num_classes(features, path: Tuple[str, ...], source: str) -> int:
  """Classes of the ClassLabel at `path` of a TFDS feature dict (of the
  ClassLabels of a Sequence, for a multi-label task)."""
  feature = features
  for key in path:
    feature = feature[key]
  if isinstance(feature, tfds.features.Sequence):
    feature = feature.feature
  if not isinstance(feature, tfds.features.ClassLabel):
    raise ValueError(f"{source}: the feature {'/'.join(path)} is a "
                     f"{type(feature).__name__}, not a ClassLabel.")
  return feature.num_classes


def _offline(build: str) -> str:
  return (f"s2l cannot download it here; on a machine with the data, run "
          f"`{build}`.")


SOURCES: Dict[str, Source] = {}


def _register(source: Source) -> None:
  modalities.get(source.modality)  # ValueError for an unknown one.
  SOURCES[source.name] = source


_NSYNTH_TASKS = {
    "instrument_family": Task("instrument_family", "classification",
                              ("instrument", "family")),
    "instrument": Task("instrument", "classification",
                       ("instrument", "label")),
    "pitch": Task("pitch", "regression", ("pitch",)),
}
_register(Source(
    "nsynth", "nsynth", "audio", "audio",
    {"train": "train", "validation": "valid", "test": "test"}, _NSYNTH_TASKS,
    how_to_get=_offline("tfds build nsynth --data_dir DIR"),
    twin="synthetic_notes"))
_register(Source(
    "imagenet2012", "imagenet2012", "image", "image",
    {"train": "train", "validation": "validation"},
    {"label": Task("label", "classification", ("label",))},
    how_to_get=_offline(
        "tfds build imagenet2012 --data_dir DIR --manual_dir DIR_WITH_TARS"
        " (ILSVRC2012_img_train.tar and ILSVRC2012_img_val.tar)"),
    twin="emoji_images"))
_register(Source(
    "voc2012", "voc/2012", "image", "image",
    # VOC 2012's test annotations are not public (TFDS's test split has no
    # labels): probes score on the validation split.
    {"train": "train", "validation": "validation"},
    {"labels": Task("labels", "multilabel", ("labels",))},
    how_to_get=_offline("tfds build voc/2012 --data_dir DIR"),
    twin="emoji_images"))
_register(Source(
    "something_something_v2", "something_something_v2", "video", "video",
    {"train": "train", "validation": "validation"},
    {"label": Task("label", "classification", ("label",))},
    builder_module="s2l.datasets.something_something",
    how_to_get=_offline(
        "python -c 'import s2l.datasets.something_something as m, tensorflow_"
        "datasets as tfds; tfds.builder(\"something_something_v2\", data_dir="
        "DIR).download_and_prepare(download_config=tfds.download."
        "DownloadConfig(manual_dir=RELEASE_DIR))' with the official release "
        "in RELEASE_DIR"),
    twin="physics_video"))


def _register_embedded(name: str, tfds_name: str, modality: str,
                       input_feature: str, tasks: Dict[str, Task],
                       module: str) -> None:
  """Registers `name` (config "default") and `name_tiny` (for smoke tests)."""
  for suffix, config in (("", "default"), ("_tiny", "tiny")):
    _register(Source(name + suffix, f"{tfds_name}/{config}", modality,
                     input_feature, {"train": "train",
                                     "validation": "validation",
                                     "test": "test"}, tasks,
                     builder_module=module, embedded=True))


_register_embedded(
    "synthetic_notes", "s2l_synthetic_notes", "audio", "audio",
    {"instrument_family": Task("instrument_family", "classification",
                               ("instrument", "family")),
     "instrument": Task("instrument", "classification",
                        ("instrument", "label")),
     "pitch": Task("pitch", "regression", ("pitch",))},
    "s2l.datasets.synthetic_notes")
_register_embedded(
    "soundfont_notes", "s2l_soundfont_notes", "audio", "audio",
    {"instrument_family": Task("instrument_family", "classification",
                               ("instrument", "family")),
     "instrument": Task("instrument", "classification",
                        ("instrument", "label")),
     "pitch": Task("pitch", "regression", ("pitch",))},
    "s2l.datasets.soundfont_notes")
_register_embedded(
    "synthetic_video", "s2l_synthetic_video", "video", "video",
    {"label": Task("label", "classification", ("label",))},
    "s2l.datasets.synthetic_video")
_register_embedded(
    "physics_video", "s2l_physics_video", "video", "video",
    {"label": Task("label", "classification", ("label",)),
     "pace": Task("pace", "classification", ("pace",))},
    "s2l.datasets.physics_video")
_register_embedded(
    "emoji_images", "s2l_emoji_images", "image", "image",
    {"labels": Task("labels", "multilabel", ("labels",)),
     "category": Task("category", "classification", ("category",))},
    "s2l.datasets.emoji_images")
_register_embedded(
    "synthetic_images", "s2l_synthetic_images", "image", "image",
    {"labels": Task("labels", "multilabel", ("labels",))},
    "s2l.datasets.synthetic_images")


def twin(name: str, audio: str = "synthetic_notes") -> str:
  """The embedded stand-in of source `name` (itself if embedded); `audio`
  picks the audio twin (synthetic_notes or soundfont_notes)."""
  source = get(name)
  if source.embedded:
    return name
  return audio if get(audio).modality == source.modality else source.twin


def resolve(source) -> Source:
  """A source given by its registered name, or a source object as it is
  (an `AudioFolder`, or any object with the `Source` interface)."""
  return get(source) if isinstance(source, str) else source


def get(name: str) -> Source:
  """The registered source `name`; ValueError listing the known ones."""
  if name not in SOURCES:
    raise ValueError(f"unknown data source {name!r}; known sources: "
                     f"{', '.join(sorted(SOURCES))}.")
  return SOURCES[name]
