"""What the command lines share: their flags and the shipped-config listing.

`python -m s2l.train` and `python -m s2l.evaluate` (s2l/train.py,
s2l/evaluate.py) define their flags here and keep only their `main`; the
library modules (`s2l.training`, `s2l.evaluation`) hold no flags. `--help`
lists the shipped configs, losses, slicings and data sources. Both keep the
libraries' routine chatter off the console (`quiet_libraries`).
"""

import glob
import logging
import os
from typing import List, Sequence

from absl import app
from absl import flags

from s2l import configurables
from s2l.data import sources


def _names(folder: str) -> List[str]:
  return sorted(os.path.relpath(p, os.path.dirname(configurables.GIN_DIR))
                for p in glob.glob(os.path.join(configurables.GIN_DIR, folder,
                                                "*.gin")))


def shipped() -> str:
  """The shipped configs and registered sources, for `--help`."""
  return "\n".join([
      "Settings (one per run, first): " + ", ".join(_names("")),
      "Losses (add after the setting): " + ", ".join(_names("losses")),
      "Slicings: " + ", ".join(_names("slicing")),
      "Sources: " + ", ".join(_names("sources")) +
      "; registered names for train.source: " + ", ".join(sorted(
          sources.SOURCES)),
  ])


def define_flags() -> None:
  """--gin_file, --gin_param and --model_dir."""
  flags.DEFINE_multi_string(
      "gin_file", [], "Gin config files, in order.\n" + shipped())
  flags.DEFINE_multi_string("gin_param", [],
                            "Gin bindings, after the files, e.g. "
                            "\"train.train_steps = 500\".")
  flags.DEFINE_string("model_dir", None, "Directory of the run.")


def check_args(argv: Sequence[str]) -> None:
  """Refuses positional arguments and a missing --model_dir."""
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if not flags.FLAGS.model_dir:
    raise app.UsageError("--model_dir is required.")


# Messages of the libraries that tell a user of s2l nothing: TFDS noting,
# for every split it opens, that it reuses the data set already prepared and
# how it reads it, and its notice that its own features use TF dtypes; and
# TensorFlow's retracing warning, which every probe set off, since each
# probe head is a new Keras model with its own predict function (the traces
# are of different models, not one function traced again). What TFDS says
# while it prepares a data set, and every other warning, still shows.
CHATTER = (
    "Load dataset info from", "Reusing dataset", "Creating a tf.data.Dataset",
    "Constructing tf.data.Dataset", "You use TensorFlow DType",
    "triggered tf.function retracing")


class _Chatter(logging.Filter):

  def filter(self, record: logging.LogRecord) -> bool:
    if record.levelno > logging.WARNING:
      return True
    message = record.getMessage()
    return not any(m in message for m in CHATTER)


def quiet_libraries() -> None:
  """Drops `CHATTER` from the loggers that absl, TFDS and TensorFlow write to
  (idempotent)."""
  for name in ("absl", "tensorflow"):
    logger = logging.getLogger(name)
    if not any(isinstance(f, _Chatter) for f in logger.filters):
      logger.addFilter(_Chatter())
