"""The tiny pre-training run the probe tests share (not a test module)."""

import os

from s2l import configurables


def parse_tiny_run(data_dir, *extra):
  """Binds a 10-step run of a tiny CFN on the tiny synthetic notes."""
  configurables.parse_gin(
      [os.path.join(configurables.GIN_DIR, "synthetic_notes_freq10.gin")],
      ["train.width = 0.03", "train.depth = 2", "train.embedding_size = 128",
       "train.batch_size = 8", "train.eval_batches = 1",
       "train.train_steps = 10", "train.steps_per_checkpoint = 10",
       "train.source = 'synthetic_notes_tiny'",
       "AudioFrontend.frame_step = 512", f"train.data_dir = '{data_dir}'",
       *extra])
