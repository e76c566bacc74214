r"""A run's trained patch encoder under its own untrained aggregate layer.

    python experiments/aggregate_swap.py \
        runs/soundfont_notes/freq10_mse_lr1e-4 \
        runs/soundfont_notes/aggregate_swap/freq10_mse_lr1e-4
    python -m s2l.evaluate \
        --model_dir=runs/soundfont_notes/aggregate_swap/freq10_mse_lr1e-4 \
        --gin_param="evaluate.num_examples = (1000,)" \
        --gin_param="evaluate.baselines = ('pretrained',)" \
        --gin_param="evaluate.score_split = 'validation'" \
        --gin_param="evaluate.output = 'OUT.json'"

The CFN's embedding (the paper's probed layer) is one dense layer with a ReLU
over the n patches' fc6 features side by side. A loss can teach the patch
encoder about the note and still leave little of it in the embedding; two
readings differ in what they blame: the aggregate layer's training (it learnt
to pass on what the scores need and drop the rest), or any dense ReLU
bottleneck of that size (the untrained layer would drop as much).

`swap(RUN, OUT)` writes OUT, a run directory whose encoder is RUN's with the
embedding layer's kernel and bias set back to RUN's step-0 values
(`RUN/encoder_init`), the patch encoder left as trained; OUT's
`encoder_init` and run record are RUN's, so `s2l.evaluate` probes OUT like
any finished run (its "random" baseline is RUN's initial weights). Probed at
the embedding, OUT measures what the untrained aggregate layer keeps of the
trained patch features: compare it with RUN's embedding (the trained layer)
and with RUN's `patch_features` (what either layer reads).
"""

import argparse
import os
import shutil
import sys

import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# pylint: disable=wrong-import-position
from s2l import evaluation
from s2l import run_directory
from s2l.models import cfn

# What OUT copies from RUN besides the encoders: its record and configs.
RECORD_FILES = ("run.json", "operative_config.gin", "flags.txt")


def swap(run: str, out: str) -> str:
  """Writes OUT: RUN's trained encoder with its initial embedding layer.

  Args:
    run: a finished `s2l.train` run that kept its initial weights.
    out: the new run directory (must not exist).

  Returns:
    out.

  Raises:
    FileNotFoundError: for a run without a finished encoder or without its
      initial weights.
    FileExistsError: if `out` exists.
  """
  evaluation.finished_record(run)
  init_dir = os.path.join(run, run_directory.INIT_ENCODER_DIR)
  if not os.path.isdir(init_dir):
    raise FileNotFoundError(
        f"{run} kept no initial weights ({init_dir}); only runs made since "
        "s2l.train exports the step-0 encoder can be swapped.")
  if os.path.exists(out):
    raise FileExistsError(f"{out} exists; give a new directory.")
  trained = tf.keras.models.load_model(
      os.path.join(run, run_directory.ENCODER_DIR), compile=False)
  initial = tf.keras.models.load_model(init_dir, compile=False)
  layer = trained.get_layer(cfn.EMBEDDING_LAYER)
  layer.set_weights(initial.get_layer(cfn.EMBEDDING_LAYER).get_weights())
  os.makedirs(out)
  for name in RECORD_FILES:
    if os.path.exists(os.path.join(run, name)):
      shutil.copy2(os.path.join(run, name), os.path.join(out, name))
  shutil.copytree(init_dir, os.path.join(out, run_directory.INIT_ENCODER_DIR))
  trained.save(os.path.join(out, run_directory.ENCODER_DIR))
  return out


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("run", help="a finished s2l.train run")
  parser.add_argument("out", help="the run directory to write")
  args = parser.parse_args(argv)
  print(swap(args.run, args.out))


if __name__ == "__main__":
  main()
