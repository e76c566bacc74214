r"""Pre-trains a CFN on the permutation pretext task (`s2l.training.train`).

    python -m s2l.train --gin_file=gin/synthetic_notes_freq10.gin \
        [--gin_file=gin/losses/mse.gin] [--gin_param='train.train_steps = 100'] \
        --model_dir=runs/notes

Rerunning the same command resumes the run, or does nothing if it is
complete. SIGTERM or Ctrl-C stops it after the step in progress, with a
checkpoint at that step, and exits with status 128 + the signal's number,
printing the command that resumes. `--help` lists the shipped configs.
"""

import os
import shlex
import sys

from absl import app
from absl import flags
import tensorflow as tf

from s2l import cli
from s2l import configurables
from s2l import events
from s2l import run_directory
from s2l import training

cli.define_flags()
flags.adopt_module_key_flags(cli)
FLAGS = flags.FLAGS


def main(argv):
  cli.check_args(argv)
  cli.quiet_libraries()
  configurables.parse_gin(FLAGS.gin_file, FLAGS.gin_param)
  tf.io.gfile.makedirs(FLAGS.model_dir)
  with tf.io.gfile.GFile(os.path.join(FLAGS.model_dir, "flags.txt"),
                         "w") as f:
    f.write(" ".join(sys.argv) + "\n" + FLAGS.flags_into_string())
  try:
    training.train(FLAGS.model_dir)
  except training.Preempted as stopped:
    command = shlex.join(["python", "-m", "s2l.train", *sys.argv[1:]])
    # The message as built: gin appends its call site to the exception's.
    sys.stderr.write(f"{stopped.message}\nResume with:\n  {command}\n")
    sys.exit(128 + stopped.signal)
  print(summary(FLAGS.model_dir))


def summary(model_dir: str) -> str:
  """What a finished run reached and what to run next, for the console."""
  curves = events.scalars(model_dir, "validation", prefix="epoch_")
  reached = ", ".join(
      f"{label} {events.last(curves[tag])[1]:.3f}"
      for tag, label in (("epoch_partial_ranks", "held-out partial ranks"),
                         ("epoch_exact_permutation", "exact permutations"))
      if tag in curves)
  encoder = os.path.join(model_dir, run_directory.ENCODER_DIR)
  return (f"Done: {reached or 'no held-out evaluation recorded'}.\n"
          f"Encoder: {encoder}\nProbe it with:\n  python -m s2l.evaluate "
          f"--model_dir={shlex.quote(model_dir)}")


if __name__ == "__main__":
  app.run(main)
