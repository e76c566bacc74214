"""Choosing a `tf.distribute` strategy by name (one device, GPUs, workers, TPU).

    make_strategy("default")       # whatever device TF picks, no replication
    make_strategy("mirrored")      # all local GPUs (or CPUs set as devices)
    make_strategy("multi_worker")  # MultiWorkerMirrored, cluster from TF_CONFIG
    make_strategy("tpu")           # TPUStrategy, TPU from the environment

The global batch is split evenly across replicas by `fit()`; `PretextModel`
divides each replica's summed loss by the global batch, so the gradients
equal those of one device on the whole batch.
"""

import json
import os

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")


def make_strategy(name: str = "default") -> tf.distribute.Strategy:
  """The strategy called `name`; ValueError listing the valid names."""
  if name == "default":
    return tf.distribute.get_strategy()
  if name == "mirrored":
    return tf.distribute.MirroredStrategy()
  if name == "multi_worker":
    if "TF_CONFIG" not in os.environ:
      raise ValueError("strategy 'multi_worker' reads the cluster from the "
                       "TF_CONFIG environment variable, which is not set.")
    return tf.distribute.MultiWorkerMirroredStrategy()
  if name == "tpu":
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)
  raise ValueError(f"strategy must be one of {STRATEGIES}, got {name!r}.")


def is_chief() -> bool:
  """True unless TF_CONFIG names this process a non-chief worker.

  Only the chief writes checkpoints, summaries and exports to the model
  directory; the other workers write theirs to a scratch directory.
  """
  config = json.loads(os.environ.get("TF_CONFIG", "{}"))
  task = config.get("task", {})
  task_type, task_id = task.get("type"), task.get("index", 0)
  if task_type in (None, "chief"):
    return True
  has_chief = "chief" in config.get("cluster", {})
  return task_type == "worker" and task_id == 0 and not has_chief


def task_name() -> str:
  """This process's task in TF_CONFIG as "<type>_<index>" ("chief_0" when
  TF_CONFIG names none): the same name on every restart of the task, so a
  worker finds its own scratch directory again."""
  task = json.loads(os.environ.get("TF_CONFIG", "{}")).get("task", {})
  return f"{task.get('type', 'chief')}_{task.get('index', 0)}"
