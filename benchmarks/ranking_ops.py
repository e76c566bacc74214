"""Times the ranking ops against a plain argsort-based hard rank.

    python benchmarks/ranking_ops.py [--batch=256] [--sizes=10,20,100,1000]

Prints, for each n, the forward and forward+backward time (median
milliseconds per call, batch of `--batch` rows) of soft_rank (l2, kl) and
perturbed_rank (ε = 0.1, 10 samples), eagerly, under `tf.function` and under
`tf.function(jit_compile=True)`, with the ratio of each op to the hard rank
(`tf.argsort` twice) in the same mode. Ratios taken within one run are what to
quote: absolute times on a shared machine are noisy.
"""

import statistics
import time

from absl import app
from absl import flags
import tensorflow as tf

from s2l import ranking

_BATCH = flags.DEFINE_integer("batch", 256, "Rows per call.")
_SIZES = flags.DEFINE_list("sizes", ["10", "20", "100", "1000"],
                           "Numbers of items n to rank.")
_MIN_SECONDS = flags.DEFINE_float(
    "min_seconds", 0.5, "Time spent timing each cell (after a warm-up).")


def hard_rank(values):
  """The floor: ranks from two argsorts, no gradient."""
  order = tf.argsort(values, axis=-1)
  return tf.cast(tf.argsort(order, axis=-1) + 1, values.dtype)


OPS = {
    "hard rank (argsort)": hard_rank,
    "soft_rank l2": lambda v: ranking.soft_rank(v, 1.0, "l2"),
    "soft_rank kl": lambda v: ranking.soft_rank(v, 1.0, "kl"),
    "perturbed_rank": lambda v: ranking.perturbed_rank(v, 0.1, 10),
}

MODES = {
    "eager": lambda f: f,
    "graph": tf.function,
    "xla": lambda f: tf.function(f, jit_compile=True),
}


def _forward_backward(op):
  def run(values):
    with tf.GradientTape() as tape:
      tape.watch(values)
      out = op(values)
    return tape.gradient(out, values, output_gradients=tf.ones_like(out))
  return run


def _time_ms(fn, values, min_seconds):
  """Median wall time of fn(values) in ms, after one warm-up (compilation)."""
  fn(values).numpy()
  times = []
  start = time.perf_counter()
  while time.perf_counter() - start < min_seconds or len(times) < 3:
    tick = time.perf_counter()
    fn(values).numpy()
    times.append(time.perf_counter() - tick)
  return 1000 * statistics.median(times)


def main(argv):
  del argv
  tf.random.set_seed(0)
  print(f"TensorFlow {tf.__version__}, devices: "
        f"{[d.device_type for d in tf.config.list_logical_devices()]}, "
        f"batch {_BATCH.value}, float32, median ms per call\n")
  header = "| op | n | pass |" + "".join(
      f" {mode} ms | {mode} ×hard |" for mode in MODES)
  print(header)
  print("|" + "---|" * (header.count("|") - 1))
  for n in (int(size) for size in _SIZES.value):
    values = tf.random.normal([_BATCH.value, n])
    floor = {mode: _time_ms(wrap(hard_rank), values, _MIN_SECONDS.value)
             for mode, wrap in MODES.items()}
    for name, op in OPS.items():
      passes = [("fwd", op)]
      if op is not hard_rank:
        passes.append(("fwd+bwd", _forward_backward(op)))
      for pass_name, fn in passes:
        cells = []
        for mode, wrap in MODES.items():
          ms = (floor[mode] if op is hard_rank and pass_name == "fwd" else
                _time_ms(wrap(fn), values, _MIN_SECONDS.value))
          cells.append(f" {ms:.3f} | {ms / floor[mode]:.1f} |")
        print(f"| {name} | {n} | {pass_name} |" + "".join(cells), flush=True)


if __name__ == "__main__":
  app.run(main)
