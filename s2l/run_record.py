"""The run record: what a pre-training run is, in one JSON file.

`s2l.train` writes `RUN/run.json` next to the operative gin config, once the
data and the network are built:

    {"format": 1,
     "source": {"name": "synthetic_notes"}                 (a registered source)
               or {"name": "audio_folder:/abs/dir", "class": "AudioFolder",
                   "args": {"root": "/abs/dir", ...}},     (a source object)
     "slicing": {"class": "Slicing", "args": {"nx": 1, "ny": 10, ...}},
     "frontend": {"class": "AudioFrontend", "args": {...}},  (resolved: the
                                                      modality's default if unset)
     "loss": {"class": "PerturbedFenchelYoungLoss", "args": {...}},
     "network": {"num_patches": 10, "patch_shape": [...], "num_outputs": 10,
                 "width": ..., "depth": ..., "embedding_size": ...,
                 "dropout": ...},
     "precision": "float32",           (or "mixed_bfloat16", "mixed_float16")
     "learning_rate": ..., "batch_size": ..., "train_steps": ...,
     "steps_per_checkpoint": ..., "eval_batches": ..., "seed": ...,
     "data_dir": ...}

`s2l.evaluate` rebuilds the source, slicing and front end from it (`build`,
`build_source`), never from gin's global state, and a resumed run is checked
against it (`check_resume`). Parts are rebuilt by class name
(`part_class`): a loss from `s2l.losses.REGISTRY`, any other swappable part
from `PARTS`, which a new one joins.
"""

import dataclasses
import json
import os
from typing import Any, Dict, List, Optional

import tensorflow as tf

from s2l import atomic
from s2l import losses
from s2l.datasets import audio_folder
from s2l.datasets import image_folder
from s2l.datasets import video_folder
from s2l.data import frontends
from s2l.data import patches
from s2l.data import sources

RECORD_FILE = "run.json"
FORMAT = 1
# What a resumed run must keep: the checkpoint's weights were trained on
# this data, these patches and this network, in this precision (a float16
# run's checkpoint also holds its loss scale). The schedule (steps, learning
# rate, checkpoint interval) may change on resume.
FIXED = ("source", "slicing", "frontend", "loss", "network", "precision",
         "batch_size", "seed", "train_examples")
# Fields that joined format 1 after runs were made without them, with the
# value those runs had: `read` fills them in, so such runs still resume and
# probe.
ADDED = {"precision": "float32", "train_examples": None}
# The same for constructor arguments that joined a part: {class: {argument:
# the value runs recorded without it had}}.
ADDED_ARGS = {"AudioFolder": {"drop_silent": False}}
# The parts other than losses; a loss is found in `s2l.losses.REGISTRY`.
PARTS = {cls.__name__: cls for cls in (
    patches.Slicing, frontends.AudioFrontend, frontends.ImageFrontend,
    frontends.VideoFrontend, audio_folder.AudioFolder,
    image_folder.ImageFolder, video_folder.VideoFolder)}


def part_class(name: str):
  """The class a record's {"class": name} stands for.

  Raises:
    RecordError: for a class this version of s2l does not know.
  """
  if name in PARTS:
    return PARTS[name]
  try:
    return losses.by_class_name(name)
  except KeyError:
    known = sorted([*PARTS, *(c.__name__ for c in losses.REGISTRY.values())])
    raise RecordError(f"the run record names a {name}, which this version of "
                      f"s2l does not know; known parts: {known}.") from None


class RecordError(ValueError):
  """A missing, unreadable or contradicted run record."""


def _plain(value: Any) -> Any:
  """JSON's view of a value (tuples become lists), for comparisons."""
  return json.loads(json.dumps(value))


def describe(part) -> Optional[Dict]:
  """{"class": name, "args": constructor arguments} of a swappable part.

  Args:
    part: a dataclass (Slicing, a front end), a Keras loss (its
      `get_config()`), an object with a `config` dict of its constructor
      arguments (AudioFolder), or None.
  """
  if part is None:
    return None
  if dataclasses.is_dataclass(part):
    args = {f.name: getattr(part, f.name) for f in dataclasses.fields(part)}
  elif hasattr(part, "get_config"):
    args = part.get_config()
  elif isinstance(getattr(part, "config", None), dict):
    args = part.config
  else:
    raise RecordError(f"cannot record a {type(part).__name__}: give it a "
                      "`config` dict of its constructor arguments and add it "
                      "to s2l.run_record.PARTS (a loss: declare it with "
                      "s2l.losses.register).")
  return {"class": type(part).__name__, "args": _plain(args)}


def build(description: Optional[Dict]):
  """The part a `describe` output stands for (None for None)."""
  if description is None:
    return None
  cls = part_class(description["class"])
  # JSON turned the tuples (AudioFolder's columns) into lists.
  return cls(**{k: tuple(v) if isinstance(v, list) else v
                        for k, v in description["args"].items()})


def describe_source(source) -> Dict:
  """A registered source by its name; any other source object by its class
  and arguments (an `AudioFolder`: its folder, columns and splits)."""
  if isinstance(source, str):
    source = sources.get(source)
  if isinstance(source, sources.Source):
    return {"name": source.name}
  return {"name": source.name, **describe(source)}


def build_source(description: Dict):
  """The source a `describe_source` output stands for."""
  if "class" not in description:
    return sources.get(description["name"])
  return build(description)


def write(model_dir: str, record: Dict) -> str:
  """Writes `record` (plus its format) to `model_dir/run.json`; its path.

  Atomically (`s2l.atomic`): a run killed while writing it keeps its
  previous record, or none.
  """
  return atomic.write_json(os.path.join(model_dir, RECORD_FILE),
                           {"format": FORMAT, **_plain(record)}, indent=2)


def read(model_dir: str) -> Dict:
  """The record of the run in `model_dir`, with the `ADDED` fields and the
  `ADDED_ARGS` arguments it lacks.

  Raises:
    RecordError: if there is none (not a run directory, or a run made before
      s2l kept records) or it cannot be read.
  """
  path = os.path.join(model_dir, RECORD_FILE)
  if not tf.io.gfile.exists(path):
    raise RecordError(
        f"{path} does not exist: --model_dir must be a directory written by "
        "s2l.train. A run made before s2l kept run records gets one when its "
        "s2l.train command runs again (a complete run trains no further).")
  try:
    with tf.io.gfile.GFile(path) as f:
      record = json.load(f)
  except json.JSONDecodeError as e:
    raise RecordError(f"{path} is not valid JSON ({e}); rerun the run's "
                      "s2l.train command to rewrite it.") from e
  if record.get("format") != FORMAT:
    raise RecordError(f"{path} has format {record.get('format')!r}; this "
                      f"version of s2l reads format {FORMAT}.")
  return {**ADDED, **{field: _with_added_args(value)
                      for field, value in record.items()}}


def _with_added_args(part: Any) -> Any:
  """A part's description with the `ADDED_ARGS` it lacks; other values as
  they are."""
  if not (isinstance(part, dict) and part.get("class") in ADDED_ARGS
          and isinstance(part.get("args"), dict)):
    return part
  return {**part, "args": {**ADDED_ARGS[part["class"]], **part["args"]}}


def differences(old: Dict, new: Dict,
                fields=FIXED) -> List[str]:
  """The `fields` on which two records disagree, as readable lines (a
  field missing from either counts as its `ADDED` value, if any)."""
  lines = []
  for field in fields:
    before, after = (_plain(record.get(field, ADDED.get(field)))
                     for record in (old, new))
    if before != after:
      lines.append(f"{field}: recorded {json.dumps(before)}, now "
                   f"{json.dumps(after)}")
  return lines


def check_resume(model_dir: str, record: Dict,
                 override: bool = False) -> List[str]:
  """Refuses to resume `model_dir` with another data, patching or network.

  Args:
    override: allow it anyway (the caller logs the differences).

  Returns:
    The differences (empty when the settings agree).

  Raises:
    RecordError: naming each field that differs from the run's record,
      unless `override`.
  """
  if not tf.io.gfile.exists(os.path.join(model_dir, RECORD_FILE)):
    return []  # A run from before records: nothing to check against.
  changed = differences(read(model_dir), record)
  if changed and not override:
    raise RecordError(
        f"{model_dir} holds a run whose checkpoints were trained with another "
        "setting; resuming would mix the two:\n  " + "\n  ".join(changed) +
        "\nUse a new --model_dir, or the run's own config (its "
        "operative_config.gin), or train.override_record = True to resume "
        "anyway. Steps, learning rate and checkpoint interval may change on "
        "resume; these may not.")
  return changed
