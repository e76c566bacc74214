"""Mixed precision of pre-training: `train.precision` (Keras dtype policies).

* "float32": every layer computes and keeps its weights in float32.
* "mixed_bfloat16": layers compute in bfloat16, weights stay float32. Its
  exponent range is float32's, so no loss scaling is needed.
* "mixed_float16": layers compute in float16, weights stay float32, and the
  optimizer scales the loss so that small gradients do not underflow
  (`tf.keras.mixed_precision.LossScaleOptimizer`, dynamic scale).

In every mode the CFN's scores layer computes in float32 (`s2l.models.cfn`),
so the ranking ops, losses and metrics see float32 scores, and the exported
encoder returns float32 embeddings. The policy is Keras' global one, set
only while a model is built and trained (`policy`), then put back.
"""

import contextlib
from typing import Iterator

import tensorflow as tf

from s2l import checks

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def check(owner: str, name: str, value) -> None:
  """Raises ValueError("<owner>.<name> must be one of ..., got <value>.")
  unless `value` is one of `PRECISIONS`."""
  checks.require(owner, name, value,
                 isinstance(value, str) and value in PRECISIONS,
                 f"one of {', '.join(map(repr, PRECISIONS))}")


@contextlib.contextmanager
def policy(precision: str) -> Iterator[tf.keras.mixed_precision.Policy]:
  """Makes `precision` Keras' global dtype policy inside the block.

  Layers built inside keep it afterwards; the previous global policy is put
  back on leaving, even on an error, so nothing leaks into later code.

  Yields:
    The policy.
  """
  check("policy", "precision", precision)
  previous = tf.keras.mixed_precision.global_policy()
  tf.keras.mixed_precision.set_global_policy(precision)
  try:
    yield tf.keras.mixed_precision.global_policy()
  finally:
    tf.keras.mixed_precision.set_global_policy(previous)


def optimizer(inner: tf.keras.optimizers.Optimizer,
              precision: str) -> tf.keras.optimizers.Optimizer:
  """`inner`, wrapped in a dynamic `LossScaleOptimizer` for "mixed_float16".

  float16's smallest normal number is about 6e-5: without scaling, small
  gradients flush to zero. bfloat16 and float32 need no scaling.
  """
  check("optimizer", "precision", precision)
  if precision == "mixed_float16":
    return tf.keras.mixed_precision.LossScaleOptimizer(inner)
  return inner
