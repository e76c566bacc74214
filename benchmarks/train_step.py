"""Training throughput of the CFN for each pretext loss and precision.

    python benchmarks/train_step.py [--steps=60] [--config=gin/synthetic_notes_freq10.gin]
        [--precisions=float32,mixed_float16,mixed_bfloat16] [--losses=...]

For the default config (synthetic notes, 10 frequency bands, the embedded
CFN, batch 32), prints the training examples/second of each pretext loss in
each precision (`train.precision`, see `s2l.precision`), its ratio to the
same loss in float32, its ratio to the same network trained with a plain
regression head on the scores (MSE: no ranking op) in the same precision,
and the peak resident memory of the process. float32 and MSE are always
measured: they are the bases of the ratios. Each (loss, precision) runs in
its own process and repeats one real batch from memory through the compiled
train step, so the table measures the model and the loss, not the input
pipeline; a last line compares the input pipeline's throughput for the same
config (including filling its cache) to the float32 perturbed F-Y training
throughput.
"""

import json
import math
import os
import resource
import subprocess
import sys
import time

from absl import app
from absl import flags
import numpy as np

from s2l import losses

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Every registered loss, MSE first (the base of the ratios).
LOSSES = ("mse", *(name for name in losses.REGISTRY if name != "mse"))

_STEPS = flags.DEFINE_integer("steps", 60, "Timed training steps per loss.")
_CONFIG = flags.DEFINE_string("config", "gin/synthetic_notes_freq10.gin",
                              "Gin config of the network and data.")
_PRECISIONS = flags.DEFINE_list(
    "precisions", ["float32", "mixed_float16", "mixed_bfloat16"],
    "train.precision modes to time (float32 is always timed).")
_LOSSES = flags.DEFINE_list("losses", list(LOSSES),
                            "Losses to time (mse is always timed).")
_REPEATS = flags.DEFINE_integer(
    "repeats", 1,
    "Rounds over every (loss, precision), in alternating order; each cell "
    "reports the median rate and the median of its per-round ratios (a "
    "shared machine's load drifts within a run).")
_LOSS = flags.DEFINE_string("loss", None, "Internal: time this loss only.")
_PRECISION = flags.DEFINE_string("precision", "float32",
                                 "Internal: in this precision.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data directory.")


def _measure_one(loss_file: str, precision: str, steps: int) -> dict:
  """Examples/s of fit() on cached batches, and this process's peak RSS."""
  import gin  # pylint: disable=import-outside-toplevel
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from s2l import configurables  # pylint: disable=import-outside-toplevel
  from s2l import training  # pylint: disable=import-outside-toplevel
  configurables.parse_gin(
      [os.path.join(ROOT, _CONFIG.value),
       os.path.join(ROOT, "gin", "losses", loss_file + ".gin")],
      [f"train.precision = {precision!r}"] +
      ([f"train.data_dir = {_DATA_DIR.value!r}"]
       if _DATA_DIR.value else []))
  # Build everything through the entry point, then time fit() alone. The
  # layers keep the precision's dtype policy after train() restores the
  # global one.
  model_dir = os.path.join("/tmp", f"s2l_bench_{os.getpid()}")
  # train() builds the data and model exactly as a real run; intercepting
  # fit() hands them over instead of training.
  captured = {}
  original_fit = tf.keras.Model.fit

  def capture(model, data, **kwargs):
    captured["model"], captured["data"] = model, data
    return tf.keras.callbacks.History()

  tf.keras.Model.fit = capture
  try:
    training.train(model_dir, steps_per_checkpoint=steps, train_steps=steps)
  finally:
    tf.keras.Model.fit = original_fit
  model = captured["model"]
  # One real batch, repeated from memory: times the network and the loss.
  batch = next(iter(captured["data"]))
  batch_size = int(batch[1].shape[0])
  iterator = iter(tf.data.Dataset.from_tensors(batch).repeat())
  step = model.make_train_function()
  for _ in range(5):  # Tracing and warm-up.
    step(iterator)
  start = time.perf_counter()
  for _ in range(steps):
    step(iterator)
  rate = steps * batch_size / (time.perf_counter() - start)
  peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
  del gin
  return {"examples_per_second": rate, "peak_rss_mb": peak_mb,
          "pipeline": captured["data"]}


def _pipeline_rate(data, batches: int = 30) -> float:
  iterator = iter(data)
  first = next(iterator)
  batch_size = int(first[1].shape[0])
  start = time.perf_counter()
  for _ in range(batches):
    next(iterator)
  return batches * batch_size / (time.perf_counter() - start)


def _figures(x: float) -> str:
  """`x` to 3 significant figures without an exponent: 2230, 6.20, 0.00710
  (a float16 ratio rounded to 2 decimals would read 0.01)."""
  decimals = 2 - math.floor(math.log10(abs(x))) if x else 0
  return f"{x:.{max(0, decimals)}f}"


def main(argv):
  del argv
  if _LOSS.value:
    result = _measure_one(_LOSS.value, _PRECISION.value, _STEPS.value)
    pipeline = result.pop("pipeline")
    if (_LOSS.value, _PRECISION.value) == ("mse", "float32"):
      result["pipeline_examples_per_second"] = _pipeline_rate(pipeline)
    print("RESULT " + json.dumps(result), flush=True)
    return
  from s2l import precision as precision_lib  # pylint: disable=import-outside-toplevel
  for name in _PRECISIONS.value:
    if name not in precision_lib.PRECISIONS:
      raise app.UsageError(
          f"--precisions: unknown precision {name!r}; the precisions are "
          f"{', '.join(precision_lib.PRECISIONS)}.")
  for name in _LOSSES.value:
    if name not in LOSSES:
      raise app.UsageError(f"--losses: unknown loss {name!r}; the losses are "
                           f"{', '.join(LOSSES)}.")
  precisions = ["float32"] + [p for p in _PRECISIONS.value if p != "float32"]
  losses = ["mse"] + [l for l in _LOSSES.value if l != "mse"]
  cells = [(loss, precision) for precision in precisions for loss in losses]
  rounds = []
  for round_index in range(_REPEATS.value):
    results = {}
    for loss, precision in (cells if round_index % 2 == 0 else cells[::-1]):
      command = [sys.executable, os.path.abspath(__file__), f"--loss={loss}",
                 f"--precision={precision}", f"--steps={_STEPS.value}",
                 f"--config={_CONFIG.value}"]
      if _DATA_DIR.value:
        command.append(f"--data_dir={_DATA_DIR.value}")
      output = subprocess.run(
          command, capture_output=True, text=True, check=True,
          env=dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="2"))
      line = [l for l in output.stdout.splitlines()
              if l.startswith("RESULT ")]
      results[loss, precision] = json.loads(line[-1][len("RESULT "):])
    rounds.append(results)

  def median(fn):
    return float(np.median([fn(results) for results in rounds]))

  def rate_of(loss, precision):
    return lambda results: results[loss, precision]["examples_per_second"]

  print(f"{_CONFIG.value}, {_STEPS.value} timed steps, {_REPEATS.value} "
        "round(s), CPU\n")
  print("| pretext loss | precision | train examples/s | × float32 |"
        " × regression head (MSE) | peak RSS MB |\n|---|---|---|---|---|---|")
  for loss in losses:
    for precision in precisions:
      rate = median(rate_of(loss, precision))
      to_float32 = median(lambda r, l=loss, p=precision: rate_of(l, p)(r) /
                          rate_of(l, "float32")(r))
      to_mse = median(lambda r, l=loss, p=precision: rate_of(l, p)(r) /
                      rate_of("mse", p)(r))
      peak = max(r[loss, precision]["peak_rss_mb"] for r in rounds)
      print(f"| {loss} | {precision} | {_figures(rate)} | "
            f"{_figures(to_float32)} | {_figures(to_mse)} | {peak:.0f} |")
  results = rounds[0]
  pipeline = results["mse", "float32"]["pipeline_examples_per_second"]
  if "perturbed_fenchel_young" in losses:
    fy = results["perturbed_fenchel_young", "float32"]["examples_per_second"]
    print(f"\ninput pipeline, first batches (filling its cache): "
          f"{pipeline:.0f} examples/s = "
          f"{pipeline / fy:.1f}× the float32 perturbed F-Y training "
          f"throughput ({np.round(fy):.0f} examples/s)")


if __name__ == "__main__":
  app.run(main)
