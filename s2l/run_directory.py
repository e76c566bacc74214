"""A run directory: its layout, its checkpoints and its exported encoders.

`s2l.train` writes, and `s2l.evaluate` reads, under `RUN/`:

    run.json               what the run is (s2l.run_record)
    operative_config.gin   the gin config as the run resolved it
    checkpoints/ckpt-N.*   the network and optimizer at step N
    encoder/               the trained encoder (a SavedModel), whose step
                           run.json's `encoder_step` records
    encoder_init/          the encoder before any training: the probes'
                           random baseline
    train/, validation/    TensorBoard summaries (s2l.events)

Training and evaluation both go through this module for that layout.
"""

import os
from typing import List, Optional

from absl import logging
import tensorflow as tf

from s2l import run_record
from s2l.models import cfn

ENCODER_DIR = "encoder"
INIT_ENCODER_DIR = "encoder_init"
# Encoders exported at earlier steps (`train.export_steps`): RUN/encoder_steps/<step>.
STEP_ENCODERS_DIR = "encoder_steps"
CHECKPOINT_DIR = "checkpoints"
OPERATIVE_CONFIG = "operative_config.gin"


def checkpoints(model_dir: str) -> str:
  """The checkpoint folder of a run."""
  return os.path.join(model_dir, CHECKPOINT_DIR)


def checkpoint_step(prefix: str) -> int:
  return int(os.path.basename(prefix)[len("ckpt-"):])


def readable_checkpoint(directory: str) -> Optional[str]:
  """The newest checkpoint of `directory` whose every tensor reads back.

  Checkpoints are found from their `ckpt-N.index` files, not from TF's
  `checkpoint` state file, which is rewritten to name the one chosen (a
  garbled state file is thus rebuilt). An unreadable newer checkpoint (a
  machine stopped mid-write) is named in a warning and passed over.

  Returns:
    The checkpoint's path prefix, or None if the directory holds none.

  Raises:
    FileNotFoundError: if it holds checkpoints and none reads back, naming
      them.
  """
  pattern = os.path.join(directory, "ckpt-*.index")
  prefixes = sorted((p[:-len(".index")] for p in tf.io.gfile.glob(pattern)
                     if os.path.basename(p)[len("ckpt-"):-len(".index")
                                            ].isdigit()),
                    key=checkpoint_step, reverse=True)
  state = os.path.join(directory, "checkpoint")
  if not prefixes:
    if tf.io.gfile.exists(state):
      tf.io.gfile.remove(state)  # Names nothing that exists.
    return None
  unreadable = []
  for prefix in prefixes:
    try:
      reader = tf.train.load_checkpoint(prefix)
      for name in reader.get_variable_to_shape_map():
        reader.get_tensor(name)
    except (tf.errors.OpError, ValueError, IndexError) as error:
      logging.warning("Checkpoint %s cannot be read (%s); trying the one "
                      "before.", prefix, str(error).splitlines()[0][:200])
      unreadable.append(prefix)
      continue
    older = [p for p in reversed(prefixes)
             if p not in unreadable and checkpoint_step(p) <=
             checkpoint_step(prefix)]
    tf.compat.v1.train.update_checkpoint_state(
        directory, prefix, all_model_checkpoint_paths=older)
    return prefix
  raise FileNotFoundError(
      f"No checkpoint of {directory} can be read: {unreadable}. Delete them "
      "(the run restarts from step 0) or restore them from a copy.")


def encoder_step(model_dir: str) -> Optional[int]:
  """The step of the encoder exported in `model_dir`, None if none is."""
  if not tf.io.gfile.exists(os.path.join(model_dir, ENCODER_DIR,
                                         "saved_model.pb")):
    return None
  try:
    return run_record.read(model_dir).get("encoder_step")
  except run_record.RecordError:
    return None


def export_encoder(network, model_dir: str, record, step: int) -> None:
  """Exports the trained encoder to `RUN/encoder`, then records its step
  (`encoder_step` of run.json)."""
  cfn.embedding_model(network).save(os.path.join(model_dir, ENCODER_DIR))
  run_record.write(model_dir, {**record, "encoder_step": step})
  logging.info("Exported the encoder at step %d to %s.", step,
               os.path.join(model_dir, ENCODER_DIR))


def export_initial_encoder(network, model_dir: str) -> None:
  """Exports the untrained encoder to `RUN/encoder_init`, so that the probes
  compare pre-training against the very weights it started from."""
  cfn.embedding_model(network).save(os.path.join(model_dir, INIT_ENCODER_DIR))


def step_encoder_dir(model_dir: str, step: int) -> str:
  """Where the encoder of `step` is exported (`train.export_steps`)."""
  return os.path.join(model_dir, STEP_ENCODERS_DIR, str(step))


def exported_steps(model_dir: str) -> List[int]:
  """The steps whose encoders `export_encoder_at` wrote whole, ascending."""
  folder = os.path.join(model_dir, STEP_ENCODERS_DIR)
  if not tf.io.gfile.isdir(folder):
    return []
  return sorted(int(name.rstrip("/")) for name in tf.io.gfile.listdir(folder)
                if name.rstrip("/").isdigit())


def export_encoder_at(network, model_dir: str, step: int) -> str:
  """Exports the encoder as it is at `step` to RUN/encoder_steps/<step>,
  whole or not at all: written beside, under a name no reader takes for a
  step, then renamed. An export already there is kept (a resumed run that
  replays the step does not overwrite it).

  Returns:
    The encoder's directory.
  """
  final = step_encoder_dir(model_dir, step)
  if tf.io.gfile.exists(final):
    return final
  partial = final + ".partial"
  if tf.io.gfile.exists(partial):  # A writer stopped mid-export.
    tf.io.gfile.rmtree(partial)
  cfn.embedding_model(network).save(partial)
  tf.io.gfile.rename(partial, final)
  logging.info("Exported the encoder at step %d to %s.", step, final)
  return final


def has_initial_encoder(model_dir: str) -> bool:
  return tf.io.gfile.exists(os.path.join(model_dir, INIT_ENCODER_DIR))


def run_of(path: str) -> str:
  """The training run of `path`: itself, or the run whose exported encoder
  (`RUN/encoder`, a SavedModel) `path` is."""
  path = path.rstrip("/")
  parent = os.path.dirname(path)
  if (tf.io.gfile.exists(os.path.join(path, "saved_model.pb")) and
      os.path.basename(path) == ENCODER_DIR and
      tf.io.gfile.exists(os.path.join(parent, run_record.RECORD_FILE))):
    return parent
  return path
