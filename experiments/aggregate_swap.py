r"""A run's trained patch encoder under its own untrained aggregate layer.

    python experiments/aggregate_swap.py swap \
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

`swap` (`python experiments/aggregate_swap.py swap RUN OUT`) writes OUT, a run directory whose encoder is RUN's with the
embedding layer's kernel and bias set back to RUN's step-0 values
(`RUN/encoder_init`), the patch encoder left as trained; OUT's
`encoder_init` and run record are RUN's, so `s2l.evaluate` probes OUT like
any finished run (its "random" baseline is RUN's initial weights). Probed at
the embedding, OUT measures what the untrained aggregate layer keeps of the
trained patch features: compare it with RUN's embedding (the trained layer)
and with RUN's `patch_features` (what either layer reads).

`summarize` (`python experiments/aggregate_swap.py summarize FOLDER`) reads
the probes experiments/aggregate_swap.sh writes into FOLDER,
`<run>_{fc6,embedding,swapped}.json`, and writes FOLDER.json and FOLDER.md:
per run and task, each layer's mean and sample std over the probe seeds, and
the share of fc6's lead over the trained embedding that the untrained layer
keeps, (swapped − embedding) / (fc6 − embedding), signed so that a better
score counts up (1: the untrained layer keeps everything fc6 has over the
trained embedding; 0: no more than the trained layer).
"""

import argparse
import glob
import json
import os
import shutil
import sys
from typing import Dict

import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# pylint: disable=wrong-import-position
from s2l import atomic
from s2l import evaluation
from s2l import report
from s2l import run_directory
from s2l.models import cfn

# What OUT copies from RUN besides the encoders: its record and configs.
RECORD_FILES = ("run.json", "operative_config.gin", "flags.txt")
# The probes of one run, by what each reads, in table order.
PROBES = ("fc6", "embedding", "swapped")
PROBE_NAMES = {"fc6": "fc6 (patch features)",
               "embedding": "embedding, trained layer",
               "swapped": "embedding, initial layer"}
REGIME = "1000"


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


def _cell(path: str) -> Dict[str, Dict]:
  """{task: {"metric", "values", "mean", "std"}} of a probe JSON's
  pre-trained encoder at 1000 labels, std the sample std."""
  with open(path) as f:
    results = json.load(f)["results"]
  out = {}
  for task, baselines in results.items():
    cell = baselines["pretrained"][REGIME]
    mean, std = report.stats(cell["values"])
    out[task] = {"metric": cell["metric"], "values": cell["values"],
                 "mean": mean, "std": std}
  return out


def kept_share(fc6: float, embedding: float, swapped: float,
               lower_is_better: bool) -> float:
  """(swapped − embedding) / (fc6 − embedding), signed so that a better
  score counts up; NaN where fc6 and the trained embedding tie."""
  sign = -1.0 if lower_is_better else 1.0
  lead = sign * (fc6 - embedding)
  if lead == 0:
    return float("nan")
  return sign * (swapped - embedding) / lead


def summarize(folder: str) -> Dict:
  """Reads FOLDER's `<run>_<probe>.json`; writes FOLDER.json and FOLDER.md.

  Returns:
    {run: {task: {probe: cell, "kept_share": float}}}.

  Raises:
    FileNotFoundError: where a run lacks one of `PROBES`, or none is found.
  """
  runs = sorted({os.path.basename(p).rsplit("_", 1)[0]
                 for p in glob.glob(os.path.join(folder, "*_swapped.json"))})
  if not runs:
    raise FileNotFoundError(f"no <run>_swapped.json in {folder}.")
  summary = {}
  for run in runs:
    cells = {}
    for probe in PROBES:
      path = os.path.join(folder, f"{run}_{probe}.json")
      if not os.path.exists(path):
        raise FileNotFoundError(f"{path} is missing: run "
                                "experiments/aggregate_swap.sh to the end.")
      cells[probe] = _cell(path)
    summary[run] = {}
    for task in cells["swapped"]:
      by_probe = {probe: cells[probe][task] for probe in PROBES}
      lower = by_probe["swapped"]["metric"] == "mse"
      summary[run][task] = {**by_probe, "kept_share": kept_share(
          *(by_probe[p]["mean"] for p in PROBES), lower_is_better=lower)}
  atomic.write_json(folder.rstrip("/") + ".json", summary, indent=2)
  lines = [
      "# The aggregate layer: trained or initial, over the trained patch "
      "encoder", "",
      f"Probes at {REGIME} labels on the test split, mean ± sample std over "
      "the probe seeds (experiments/aggregate_swap.sh). \"kept\" is the "
      "share of fc6's lead over the trained embedding that the initial "
      "embedding layer keeps (1: all of it, 0: none).", "",
      "| run | task | " + " | ".join(PROBE_NAMES[p] for p in PROBES) +
      " | kept |", "|---|---|" + "---|" * (len(PROBES) + 1)]
  for run, tasks in summary.items():
    for task, row in tasks.items():
      lines.append(f"| {run} | {task} ({row['swapped']['metric']}) | " +
                   " | ".join(_format(row[p]) for p in PROBES) +
                   f" | {row['kept_share']:.2f} |")
  atomic.write_text(folder.rstrip("/") + ".md", "\n".join(lines) + "\n")
  return summary


def _format(cell: Dict) -> str:
  digits = 2 if cell["metric"] == "mse" else 4
  std = "" if cell["std"] is None else f" ± {cell['std']:.{digits}f}"
  return f"{cell['mean']:.{digits}f}{std}"


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  commands = parser.add_subparsers(dest="command", required=True)
  swap_parser = commands.add_parser("swap", help="write a swapped run")
  swap_parser.add_argument("run", help="a finished s2l.train run")
  swap_parser.add_argument("out", help="the run directory to write")
  summary_parser = commands.add_parser(
      "summarize", help="tabulate aggregate_swap.sh's probes")
  summary_parser.add_argument("folder", help="where the probes are")
  args = parser.parse_args(argv)
  if args.command == "swap":
    print(swap(args.run, args.out))
  else:
    summarize(args.folder)
    print(f"wrote {args.folder.rstrip('/')}.json and .md")


if __name__ == "__main__":
  main()
