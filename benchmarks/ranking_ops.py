"""Times the ranking ops, both paths of the soft ops, and torchsort.

    python benchmarks/ranking_ops.py [--batch=256] [--sizes=10,20,100,1000]
        [--torch_python=/path/to/python/with/torchsort] [--ops=compiled]

Prints two markdown tables.

1. Time: for each n, the forward+backward (and forward) time, median
   milliseconds per call on a batch of `--batch` rows, of soft_rank "l2" and
   "kl" on the compiled CPU kernel and on the pure-TF path, soft_sort "l2" on
   both, perturbed_rank (ε = 0.1, 10 samples) and the hard rank (`tf.argsort`
   twice), under `tf.function` ("graph") and `tf.function(jit_compile=True)`
   ("xla", pure-TF path only: the kernel does not run inside XLA); then
   torchsort's soft_rank (CPU, same regularizations, ε = 1) and the ratio of
   the compiled kernel to it. torchsort is timed in this process when it
   imports, else by `--torch_python` (a Python with torch and torchsort) in a
   subprocess of the same run; otherwise its rows are left out. Never a
   dependency of s2l.
2. Memory: the peak growth of the process's resident memory over one
   forward+backward of soft_rank "l2" at the largest n, per path, each in a
   fresh subprocess (the CPU allocator keeps no statistics; Linux's peak
   resident size, reset just before the call, measures it).

Ratios taken within one run are what to quote: absolute times on a shared
machine are noisy.
"""

import json
import os
import statistics
import subprocess
import sys
import time

from absl import app
from absl import flags
import tensorflow as tf

from s2l import kernels
from s2l import ranking

_BATCH = flags.DEFINE_integer("batch", 256, "Rows per call.")
_SIZES = flags.DEFINE_list("sizes", ["10", "20", "100", "1000"],
                           "Numbers of items n to rank.")
_MIN_SECONDS = flags.DEFINE_float(
    "min_seconds", 0.5, "Time spent timing each cell (after a warm-up).")
_TF_PATH_MAX_N = flags.DEFINE_integer(
    "tf_path_max_n", 1000,
    "Largest n timed on the pure-TF path (O(n²) time: ~1.5 s a call at "
    "n = 1000 on 2 cores).")
_TORCH_PYTHON = flags.DEFINE_string(
    "torch_python", None,
    "A Python interpreter with torch and torchsort, used when they do not "
    "import here.")
_OPS = flags.DEFINE_string(
    "ops", "", "Time only the ops whose name contains this text, e.g. "
    "'compiled' (the hard-rank floor of the ×hard column is timed anyway).")
_MEMORY = flags.DEFINE_bool("memory", True, "Print the memory table.")
_MEMORY_CHILD = flags.DEFINE_string(
    "memory_child", None, "Internal: measure one path's memory and exit.")
_ONE_CHUNK = flags.DEFINE_bool(
    "one_chunk", False, "Internal: the pure-TF path without its chunking.")


def hard_rank(values):
  """The floor: ranks from two argsorts, no gradient."""
  order = tf.argsort(values, axis=-1)
  return tf.cast(tf.argsort(order, axis=-1) + 1, values.dtype)


def _soft(op, regularization, implementation):
  return lambda v: op(v, 1.0, regularization, implementation=implementation)


# (name, op, modes, torchsort regularization to compare with).
OPS = [
    ("hard rank (argsort)", hard_rank, ("graph", "xla"), None),
    ("soft_rank l2, compiled", _soft(ranking.soft_rank, "l2", "compiled"),
     ("graph",), "l2"),
    ("soft_rank l2, pure TF", _soft(ranking.soft_rank, "l2", "tf"),
     ("graph", "xla"), None),
    ("soft_rank kl, compiled", _soft(ranking.soft_rank, "kl", "compiled"),
     ("graph",), "kl"),
    ("soft_rank kl, pure TF", _soft(ranking.soft_rank, "kl", "tf"),
     ("graph", "xla"), None),
    ("soft_sort l2, compiled", _soft(ranking.soft_sort, "l2", "compiled"),
     ("graph",), None),
    ("soft_sort l2, pure TF", _soft(ranking.soft_sort, "l2", "tf"),
     ("graph", "xla"), None),
    ("perturbed_rank", lambda v: ranking.perturbed_rank(v, 0.1, 10),
     ("graph", "xla"), None),
]

MODES = {
    "graph": tf.function,
    "xla": lambda f: tf.function(f, jit_compile=True),
}

# Runs in the torch interpreter: prints {n: {regularization: ms}} as JSON.
_TORCHSORT_SCRIPT = r"""
import json, statistics, sys, time
import torch, torchsort
batch, sizes, min_seconds, threads = json.loads(sys.argv[1])
torch.set_num_threads(threads)
torch.manual_seed(0)
result = {}
for n in sizes:
  x = torch.randn(batch, n, requires_grad=True)
  result[n] = {}
  for reg in ("l2", "kl"):
    def step():
      y = torchsort.soft_rank(x, regularization=reg, regularization_strength=1.0)
      y.backward(torch.ones_like(y))
    step()
    times, start = [], time.perf_counter()
    while time.perf_counter() - start < min_seconds or len(times) < 3:
      tick = time.perf_counter(); step(); times.append(time.perf_counter() - tick)
    result[n][reg] = 1000 * statistics.median(times)
print(json.dumps({"torch": torch.__version__,
                  "torchsort": getattr(torchsort, "__version__", "?"),
                  "ms": result}))
"""


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


def _threads() -> int:
  return (tf.config.threading.get_intra_op_parallelism_threads() or
          os.cpu_count())


def torchsort_ms(sizes):
  """{n: {"l2": ms, "kl": ms}} and a description, or (None, why not)."""
  args = json.dumps([_BATCH.value, sizes, _MIN_SECONDS.value, _threads()])
  try:
    import torchsort  # pylint: disable=g-import-not-at-top,unused-import
    python = sys.executable
  except ImportError:
    python = _TORCH_PYTHON.value
    if not python:
      return None, ("torchsort does not import here and --torch_python is "
                    "not set: its rows are left out")
  result = subprocess.run([python, "-c", _TORCHSORT_SCRIPT, args],
                          capture_output=True, text=True, check=False)
  if result.returncode:
    return None, f"torchsort failed: {result.stderr.strip()[-300:]}"
  report = json.loads(result.stdout.strip().splitlines()[-1])
  return ({int(n): ms for n, ms in report["ms"].items()},
          f"torch {report['torch']}, torchsort {report['torchsort']}, CPU, "
          f"{_threads()} threads")


def _status_kb(field: str) -> int:
  with open("/proc/self/status", encoding="ascii") as status:
    for line in status:
      if line.startswith(field + ":"):
        return int(line.split()[1])
  raise KeyError(field)


def _measure_memory(implementation: str, n: int) -> None:
  """In a fresh process: peak resident growth (MB) over one fwd+bwd.

  Linux resets the peak resident size (VmHWM) on writing 5 to
  /proc/self/clear_refs: the peak after the call, less the resident size
  before it, is what the call added at its height.
  """
  if _ONE_CHUNK.value:
    ranking._RUNS_PER_CHUNK = n * n  # pylint: disable=protected-access
  fn = tf.function(_forward_backward(
      _soft(ranking.soft_rank, "l2", implementation)))
  values = tf.random.normal([_BATCH.value, n])
  fn(tf.random.normal([2, n])).numpy()  # Warm up on two rows.
  # Traced, not run, at the batch size: a run would leave its freed memory
  # resident for the measured one to reuse.
  fn.get_concrete_function(tf.TensorSpec(values.shape, values.dtype))
  with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
    refs.write("5")
  before = _status_kb("VmRSS")
  fn(values).numpy()
  print(json.dumps({"mb": (_status_kb("VmHWM") - before) / 1024}))


def _memory_table(n: int) -> None:
  print(f"\nPeak resident memory growth, soft_rank l2 forward+backward, "
        f"n = {n}, batch {_BATCH.value}, float32 (input: "
        f"{_BATCH.value * n * 4 / 2**20:.1f} MB)\n")
  print("| path | MB |\n|---|---|")
  for name, flags_ in (("compiled kernel", ["--memory_child=compiled"]),
                       ("pure TF", ["--memory_child=tf"]),
                       ("pure TF, runs in one chunk (no bound)",
                        ["--memory_child=tf", "--one_chunk"])):
    result = subprocess.run(
        [sys.executable, __file__, *flags_, f"--sizes={n}",
         f"--batch={_BATCH.value}"],
        capture_output=True, text=True, check=False)
    if result.returncode:
      cell = f"failed: {result.stderr.strip().splitlines()[-1][:200]}"
    else:
      cell = f"{json.loads(result.stdout.strip().splitlines()[-1])['mb']:.0f}"
    print(f"| {name} | {cell} |", flush=True)


def main(argv):
  del argv
  sizes = [int(size) for size in _SIZES.value]
  if _MEMORY_CHILD.value:
    _measure_memory(_MEMORY_CHILD.value, sizes[-1])
    return
  if kernels.library() is None:
    sys.exit(f"The compiled kernel is unavailable: {kernels.reason()}.")
  tf.random.set_seed(0)
  # torchsort is timed for each n just before s2l's ops, so both meet the
  # same load.
  torch_ms, torch_note = torchsort_ms(sizes[:1])
  print(f"TensorFlow {tf.__version__}, devices: "
        f"{[d.device_type for d in tf.config.list_logical_devices()]}, "
        f"kernel {kernels.LIBRARY}, "
        f"batch {_BATCH.value}, float32, ε = 1, median ms per call; "
        f"torchsort: {torch_note}\n")
  print("| op | n | pass | graph ms | xla ms | graph ×hard | compiled "
        "÷ torchsort |")
  print("|---|---|---|---|---|---|---|")
  for n in sizes:
    if torch_ms:
      torch_ms, _ = torchsort_ms([n])
    values = tf.random.normal([_BATCH.value, n])
    floor = _time_ms(tf.function(hard_rank), values, _MIN_SECONDS.value)
    for name, op, modes, torch_reg in OPS:
      if ("pure TF" in name and n > _TF_PATH_MAX_N.value or
          _OPS.value not in name):
        continue
      passes = [("fwd", op)]
      if op is not hard_rank:
        passes.append(("fwd+bwd", _forward_backward(op)))
      for pass_name, fn in passes:
        ms = {mode: _time_ms(MODES[mode](fn), values, _MIN_SECONDS.value)
              for mode in modes}
        ratio = ""
        if torch_reg and torch_ms and pass_name == "fwd+bwd":
          ratio = f"{ms['graph'] / torch_ms[n][torch_reg]:.2f}"
        xla = f"{ms['xla']:.3f}" if "xla" in ms else "—"
        print(f"| {name} | {n} | {pass_name} | {ms['graph']:.3f} | {xla} | "
              f"{ms['graph'] / floor:.1f} | {ratio} |", flush=True)
    if torch_ms:
      for reg in ("l2", "kl"):
        print(f"| torchsort soft_rank {reg} | {n} | fwd+bwd | "
              f"{torch_ms[n][reg]:.3f} | — | "
              f"{torch_ms[n][reg] / floor:.1f} | |", flush=True)
  if _MEMORY.value:
    _memory_table(sizes[-1])


if __name__ == "__main__":
  app.run(main)
