"""Scalars a training run wrote to TensorBoard, read back.

`s2l.train` writes its summaries under the run directory: `train/` (batch
metrics at the global step, `collapse/…` diagnostics, steps/s) and
`validation/` (Keras' held-out metrics, `epoch_…`, numbered by epoch). The
probes, the ablations and the sweep's plots read them through `scalars`.
"""

import os
from typing import Dict, List, Tuple

from absl import logging
import tensorflow as tf

Curve = Tuple[List[int], List[float]]


def scalars(model_dir: str, subdir: str = "train",
            prefix: str = "") -> Dict[str, Curve]:
  """{tag: (steps, values)} of the scalars under `model_dir/subdir` whose tag
  starts with `prefix`, in the order written (event files by name, i.e. by
  time, so a resumed run's later values come after its earlier ones).

  A file truncated by a killed run is read up to the damage, with a warning.
  """
  curves: Dict[str, Curve] = {}
  pattern = os.path.join(model_dir, subdir, "events.out.tfevents.*")
  for path in sorted(tf.io.gfile.glob(pattern)):
    try:
      for record in tf.data.TFRecordDataset(path):
        event = tf.compat.v1.Event.FromString(record.numpy())
        for value in event.summary.value:
          if value.tag.startswith(prefix):
            steps, values = curves.setdefault(value.tag, ([], []))
            steps.append(int(event.step))
            values.append(float(tf.make_ndarray(value.tensor)))
    except tf.errors.DataLossError:
      logging.warning("Truncated summary file %s.", path)
  return curves


def last(curve: Curve) -> Tuple[int, float]:
  """(step, value) of a curve's highest step, the latest written on a tie
  (a resumed run rewrites the steps after its checkpoint)."""
  steps, values = curve
  best = max(range(len(steps)), key=lambda i: (steps[i], i))
  return steps[best], values[best]
