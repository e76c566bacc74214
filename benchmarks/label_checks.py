"""The cost of the losses' run-time label checks.

    python benchmarks/label_checks.py [--batch=32] [--sizes=10,20,100]

Every pretext loss checks, outside XLA, that its labels are 1-based
permutations with the shape of the network output (`PermutationLoss._checked`).
This prints, for each loss and n, the median time of one loss value and its
gradient under `tf.function`, with the check on and off, and their ratio.
Quote the ratios, measured within one run: absolute times on a shared machine
are noisy.
"""

import statistics
import time

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf

from s2l import losses

_BATCH = flags.DEFINE_integer("batch", 32, "Rows per call (the paper: 32).")
_SIZES = flags.DEFINE_list("sizes", ["10", "20", "100"], "Numbers of items.")
_MIN_SECONDS = flags.DEFINE_float("min_seconds", 0.5, "Time per cell.")

LOSSES = {
    "Perturbed F-Y": losses.PerturbedFenchelYoungLoss,
    "Fast Soft Ranking": losses.SoftRankLoss,
    "MSE": losses.RankMSELoss,
}


def _median_ms(fn, *args) -> float:
  fn(*args)  # Trace and warm up.
  times, start = [], time.perf_counter()
  while time.perf_counter() - start < _MIN_SECONDS.value or len(times) < 5:
    tick = time.perf_counter()
    fn(*args)
    times.append(time.perf_counter() - tick)
  return 1e3 * statistics.median(times)


def _step(loss):
  @tf.function
  def step(y, theta):
    with tf.GradientTape() as tape:
      tape.watch(theta)
      value = loss(y, theta)
    return value, tape.gradient(value, theta)
  return lambda y, theta: [t.numpy() for t in step(y, theta)]


def main(argv):
  del argv
  rng = np.random.default_rng(0)
  print(f"| loss | n | checked (ms) | unchecked (ms) | checked / unchecked |")
  print("|---|---|---|---|---|")
  for n in map(int, _SIZES.value):
    y = tf.constant(np.stack([rng.permutation(n) + 1
                              for _ in range(_BATCH.value)]), tf.int32)
    theta = tf.constant(rng.normal(size=(_BATCH.value, n)), tf.float32)
    for name, make in LOSSES.items():
      checked, unchecked = make(), make()
      unchecked.check_labels = False
      on = _median_ms(_step(checked), y, theta)
      off = _median_ms(_step(unchecked), y, theta)
      print(f"| {name} | {n} | {on:.3f} | {off:.3f} | {on / off:.2f} |")


if __name__ == "__main__":
  app.run(main)
