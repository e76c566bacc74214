r"""Collapse diagnostics over training for the runs of a sweep, as a figure.

    python experiments/sweep_curves.py --runs=runs/soundfont_notes \
        --pattern='freq10_*_lr*' \
        --output=results/soundfont_notes/lr_sweep_collapse

For every finished run directory matching a pattern (repeat `--pattern` for
several; `--unfinished`: and the others), reads the
`collapse/…` scalars `s2l.train` writes at every held-out evaluation (dead
units of the per-patch features and of the probed embedding, the
embedding's effective dimension) and the held-out partial ranks, and plots
them against the step: one colour per loss, one line style per learning
rate. Writes OUTPUT.png and OUTPUT.json (the curves).
"""

import argparse
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
# pylint: disable=wrong-import-position
from s2l import events
from s2l import run_record


def parse_args(argv=None) -> argparse.Namespace:
  """The command line (argparse, not absl: tests import this module beside
  s2l's entry points, whose absl flags share names with these)."""
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--runs", default="runs/soundfont_notes",
                      help="Folder of the runs.")
  parser.add_argument("--pattern", action="append", default=None,
                      help="Run folder names (globs under --runs) to plot; "
                      "repeat for several (default freq10_*_lr*).")
  parser.add_argument("--output", default=None,
                      help="Path prefix of the .png and .json.")
  parser.add_argument("--unfinished", action="store_true",
                      help="Also plot runs not trained to the end (their "
                      "curves stop where they are).")
  args = parser.parse_args(argv)
  args.pattern = args.pattern or ["freq10_*_lr*"]
  return args


PANELS = (("collapse/patch_features_dead_fraction", "dead per-patch units"),
          ("collapse/embedding_dead_fraction", "dead embedding units"),
          ("collapse/embedding_effective_dimension",
           "embedding effective dimension"),
          ("validation/epoch_partial_ranks", "held-out partial ranks"))
COLOURS = {"PerturbedFenchelYoungLoss": "tab:red", "SoftRankLoss": "tab:green",
           "RankMSELoss": "tab:purple", "FixedPermutationLoss": "tab:orange"}
STYLES = ("-", "--", ":", "-.")
# Fixed Permutation with its labels drawn at random (a control).
RANDOM_LABELS_COLOUR = "tab:gray"


def curves(run: str, steps_per_checkpoint: int):
  """{panel tag: (steps, values)} of one run."""
  found = events.scalars(run, "train", prefix="collapse/")
  steps, values = events.scalars(run, "validation", prefix="epoch_").get(
      "epoch_partial_ranks", ([], []))
  # Keras numbers held-out evaluations by epoch.
  found["validation/epoch_partial_ranks"] = (
      [(s + 1) * steps_per_checkpoint for s in steps], values)
  return found


def gather(runs_dir: str, patterns, unfinished: bool = False):
  """{run directory: its record} of the runs under `runs_dir` matching any
  glob of `patterns`, finished ones only unless `unfinished`, sorted.

  Raises:
    ValueError: if no run matches.
  """
  runs = sorted({d for pattern in patterns
                 for d in glob.glob(os.path.join(runs_dir, pattern))
                 if os.path.exists(os.path.join(d, run_record.RECORD_FILE))})
  if not runs:
    raise ValueError(f"no run matches {patterns} under {runs_dir}.")
  records = {run: run_record.read(run) for run in runs}
  if not unfinished:
    records = {run: r for run, r in records.items()
               if r.get("encoder_step") == r["train_steps"]}
  return records


def describe(record):
  """(legend label, colour) of a run: its loss and rate, and "random labels"
  for the Fixed Permutation control (`FixedPermutationLoss.random_labels`)."""
  loss = record["loss"]["class"]
  label = f"{loss.replace('Loss', '')}, Adam {record['learning_rate']:g}"
  if record["loss"].get("args", {}).get("random_labels"):
    return label + ", random labels", RANDOM_LABELS_COLOUR
  return label, COLOURS.get(loss, "gray")


def main(argv=None):
  args = parse_args(argv)
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  try:
    records = gather(args.runs, args.pattern, args.unfinished)
  except ValueError as error:
    sys.exit(f"error: {error}")
  rates = sorted({r["learning_rate"] for r in records.values()})
  fig, axes = plt.subplots(1, len(PANELS), figsize=(4.4 * len(PANELS), 3.8))
  saved = {}
  for run, record in records.items():
    loss = record["loss"]["class"]
    label, colour = describe(record)
    found = curves(run, record["steps_per_checkpoint"])
    saved[os.path.relpath(run, args.runs)] = {
        "loss": loss, "learning_rate": record["learning_rate"],
        "label": label,
        "curves": {tag: found.get(tag, ([], [])) for tag, _ in PANELS}}
    for ax, (tag, title) in zip(axes, PANELS):
      if found.get(tag, ([], []))[0]:
        ax.plot(*found[tag], color=colour,
                linestyle=STYLES[rates.index(record["learning_rate"]) %
                                 len(STYLES)], label=label)
      ax.set_title(title, fontsize=10)
      ax.set_xlabel("training step")
      ax.grid(alpha=0.3)
  axes[-1].legend(fontsize=7, loc="best")
  fig.suptitle(f"Collapse diagnostics during pre-training ({args.runs}, "
               "held-out inputs; Fixed Permutation's partial ranks on its "
               "own 100 orders)", fontsize=10)
  fig.tight_layout()
  if args.output:
    os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
    fig.savefig(args.output + ".png", dpi=90)
    with open(args.output + ".json", "w") as f:
      json.dump(saved, f, indent=1)
    print(f"wrote {args.output}.png and .json")


if __name__ == "__main__":
  main()
