"""Runs a tiny training in its own process, for tests/test_distribute.py.

    python tests/distributed_run.py MODEL_DIR DATA_DIR STRATEGY [CPUS
        [PLACEMENT [TRAIN_STEPS STEPS_PER_CHECKPOINT]]]

Logical CPU devices and TF_CONFIG must be set before TensorFlow starts,
hence a separate process. Prints the loss of every epoch as JSON.
"""

import json
import os
import sys

from absl import logging
import tensorflow as tf


def main(model_dir, data_dir, strategy, cpus="1", placement="data",
         train_steps="12", steps_per_checkpoint="4"):
  logging.set_verbosity(logging.INFO)  # Progress lines and "Resuming from".
  physical = tf.config.list_physical_devices("CPU")[0]
  tf.config.set_logical_device_configuration(
      physical, [tf.config.LogicalDeviceConfiguration()] * int(cpus))
  from s2l import configurables  # pylint: disable=import-outside-toplevel
  from s2l import training  # pylint: disable=import-outside-toplevel
  gin_dir = configurables.GIN_DIR
  configurables.parse_gin(
      [os.path.join(gin_dir, "synthetic_notes_freq10.gin"),
       os.path.join(gin_dir, "losses", "fast_soft_ranking.gin")],
      ["train.width = 0.03", "train.depth = 2",
       "train.embedding_size = 128", "train.batch_size = 8",
       "train.eval_batches = 1", f"train.train_steps = {train_steps}",
       f"train.steps_per_checkpoint = {steps_per_checkpoint}",
       "train.log_every = 10",
       "train.learning_rate = 3e-3",
       "train.source = 'synthetic_notes_tiny'",
       "AudioFrontend.frame_step = 512",
       f"train.data_dir = '{data_dir}'",
       f"train.strategy = '{strategy}'",
       f"train.frontend_placement = '{placement}'"])
  try:
    history = training.train(model_dir)
  except training.Preempted as stopped:
    print(f"PREEMPTED {stopped.step} {stopped.message}", flush=True)
    sys.exit(128 + stopped.signal)
  print("LOSSES " + json.dumps(history.history["loss"]), flush=True)


if __name__ == "__main__":
  main(*sys.argv[1:])
