"""What a run spends outside its training steps, under each protobuf backend.

    python benchmarks/run_overheads.py [--repeats=3] [--steps=20]

A run exports its encoder twice (initial weights and trained) as a Keras
SavedModel, writes TensorBoard summaries, and every probe loads the
SavedModels back. All of it goes through protobuf. The pinned protobuf (4.25)
runs on its compiled upb backend; `PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python`
forces the pure-Python one, which is what the former pin (3.20.3, no compiled
wheel for Python 3.11) ran on. For each backend, in its own process, in
alternating order over the repeats, this times:

- a whole `s2l.train` run of `--steps` steps of the tiny CFN on the tiny
  synthetic notes (the shape of most tests' runs), data already built;
- one export of the trained encoder (`SavedModel`, as `export_encoder` does);
- one load of it (as `s2l.evaluate` does).

and prints the median seconds of each and the ratio python / upb.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BACKENDS = ("upb", "python")

_REPEATS = flags.DEFINE_integer("repeats", 3, "Rounds over both backends.")
_STEPS = flags.DEFINE_integer("steps", 20, "Training steps of the timed run.")

_CHILD = r"""
import json, os, sys, time
import tensorflow as tf
from google.protobuf.internal import api_implementation
from s2l import configurables, run_directory, training

work, steps = sys.argv[1], int(sys.argv[2])
configurables.parse_gin(
    [os.path.join(configurables.GIN_DIR, "synthetic_notes_freq10.gin")],
    ["train.width = 0.03", "train.depth = 2", "train.embedding_size = 256",
     "train.batch_size = 8", "train.eval_batches = 1",
     f"train.train_steps = {steps}", f"train.steps_per_checkpoint = {steps}",
     "train.source = 'synthetic_notes_tiny'", "AudioFrontend.frame_step = 512",
     f"train.data_dir = '{os.path.join(work, 'tfds')}'"])
run = os.path.join(work, f"run_{os.getpid()}")
start = time.perf_counter()
training.train(run)
train_s = time.perf_counter() - start
encoder = tf.keras.models.load_model(
    os.path.join(run, run_directory.ENCODER_DIR), compile=False)
start = time.perf_counter()
encoder.save(os.path.join(work, f"export_{os.getpid()}"))
export_s = time.perf_counter() - start
start = time.perf_counter()
tf.keras.models.load_model(os.path.join(work, f"export_{os.getpid()}"),
                           compile=False)
load_s = time.perf_counter() - start
print("TIMES " + json.dumps({"backend": api_implementation.Type(),
                             "train": train_s, "export": export_s,
                             "load": load_s}))
"""


def _time(backend: str, work: str, steps: int) -> dict:
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="2",
             PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=backend)
  done = subprocess.run([sys.executable, "-c", _CHILD, work, str(steps)],
                        env=env, capture_output=True, text=True, check=False)
  lines = [l for l in done.stdout.splitlines() if l.startswith("TIMES ")]
  if done.returncode or not lines:
    raise RuntimeError(f"the {backend} run failed:\n{done.stderr[-3000:]}")
  times = json.loads(lines[-1][len("TIMES "):])
  if times.pop("backend") != backend:
    raise RuntimeError(f"protobuf did not take the {backend} backend; is "
                       "the pinned protobuf (requirements.txt) installed?")
  return times


def main(argv):
  del argv
  with tempfile.TemporaryDirectory() as work:
    _time("upb", work, 2)  # Builds the tiny data set, untimed.
    rounds = {b: [] for b in BACKENDS}
    for r in range(_REPEATS.value):
      for backend in (BACKENDS if r % 2 == 0 else BACKENDS[::-1]):
        rounds[backend].append(_time(backend, work, _STEPS.value))
  print(f"Medians of {_REPEATS.value} rounds, seconds; tiny run of "
        f"{_STEPS.value} steps.")
  print("| phase | upb (s) | python (s) | python / upb |")
  print("|---|---|---|---|")
  for phase in ("train", "export", "load"):
    upb, py = (statistics.median(t[phase] for t in rounds[b])
               for b in BACKENDS)
    print(f"| {phase} | {upb:.2f} | {py:.2f} | {py / upb:.2f} |")


if __name__ == "__main__":
  app.run(main)
