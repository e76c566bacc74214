r"""Ablations of the collapse: why the pre-trained encoder loses to a random one.

    python experiments/ablations.py [--data=soundfont_notes,synthetic_notes] \
        [--only=default,lr1e-5] [--dry_run]

Each ablation changes one suspect of the embedded twin's setting at a time
(learning rate, steps, network size, dropout, patch normalisation) or of the
probe protocol (standardisation, labelled subsets, random baseline), then
pre-trains (`s2l.train`) and probes (`s2l.evaluate`: 3-layer MLP, 1000
labels, 3 seeds, against the run's own initial weights). One subprocess per
run keeps gin isolated; finished runs and probes are reused. Writes
`results/ablations/<data>/<name>.json` and the table
`results/ablations.md`.
"""

import dataclasses
import json
import os
import subprocess
import sys
from typing import Dict, Sequence, Tuple

from absl import app
from absl import flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = {"synthetic_notes": "gin/synthetic_notes_freq10.gin",
           "soundfont_notes": "gin/soundfont_notes_freq10.gin"}
# The probe of every ablation (the paper's table 1 regime).
PROBE = ("evaluate.num_examples = (1000,)", "evaluate.seeds = (0, 1, 2)",
         "evaluate.baselines = ('pretrained', 'random')")


@dataclasses.dataclass(frozen=True)
class Ablation:
  """One change from the twin's setting.

  Attributes:
    name: short name, also the file names.
    change: what differs, in words.
    train: gin bindings of the pre-training.
    probe: gin bindings of the probe.
    run: the name of another ablation whose pre-training this one reuses
      (probe-only changes); its own name if empty.
  """
  name: str
  change: str
  train: Tuple[str, ...] = ()
  probe: Tuple[str, ...] = ()
  run: str = ""

  @property
  def run_name(self) -> str:
    return self.run or self.name


ABLATIONS = (
    Ablation("default", "the twin as shipped before: Adam 1e-3, 2000 steps, "
             "width 0.25, depth 3, no dropout, normalised bands",
             train=("train.learning_rate = 1e-3",
                    "train.train_steps = 2000")),
    Ablation("lr1e-4", "learning rate 1e-4",
             train=("train.learning_rate = 1e-4", "train.train_steps = 2000")),
    Ablation("lr1e-5", "learning rate 1e-5",
             train=("train.learning_rate = 1e-5", "train.train_steps = 2000")),
    Ablation("lr1e-6", "learning rate 1e-6 (the paper's)",
             train=("train.learning_rate = 1e-6", "train.train_steps = 2000")),
    Ablation("lr1e-5_steps10000", "learning rate 1e-5 for 10000 steps (the "
             "new setting)",
             train=("train.learning_rate = 1e-5",
                    "train.train_steps = 10000")),
    # One suspect at a time from Adam 1e-4, 2000 steps.
    Ablation("unnormalised_lr1e-4", "bands not standardised, at 1e-4",
             train=("train.learning_rate = 1e-4", "train.train_steps = 2000",
                    "Slicing.normalize = False")),
    Ablation("dropout_lr1e-4", "dropout 0.5 after fc6 and the embedding, "
             "at 1e-4", train=("train.learning_rate = 1e-4",
                               "train.train_steps = 2000",
                               "train.dropout = 0.5")),
    Ablation("depth5_lr1e-4", "AlexNet's 5 convolutions (width 0.25), at "
             "1e-4", train=("train.learning_rate = 1e-4",
                            "train.train_steps = 2000", "train.depth = 5")),
    Ablation("steps500_lr1e-4", "500 steps at 1e-4",
             train=("train.learning_rate = 1e-4", "train.train_steps = 500")),
    Ablation("steps6000_lr1e-4", "6000 steps at 1e-4",
             train=("train.learning_rate = 1e-4", "train.train_steps = 6000")),
    # Other pre-training seeds of the new setting (Adam 1e-5, 10000 steps):
    # other initial weights (the random column) and another run.
    Ablation("seed1", "seed 1 (weights, data order, permutations) of the "
             "new setting", train=("train.learning_rate = 1e-5",
                                   "train.train_steps = 10000",
                                   "train.seed = 1")),
    Ablation("seed2", "seed 2 of the new setting",
             train=("train.learning_rate = 1e-5", "train.train_steps = 10000",
                    "train.seed = 2")),
    # The probe protocol, on the former default's collapsed run.
    Ablation("probe_raw", "probe on raw embeddings (no standardising or "
             "clipping)", probe=("evaluate.standardize = False",),
             run="default"),
    Ablation("probe_first", "labelled examples: the first 1000 in file "
             "order, the same for every seed",
             probe=("evaluate.labelled_subsets = 'first'",), run="default"),
)
BY_NAME = {a.name: a for a in ABLATIONS}

FLAGS = flags.FLAGS
flags.DEFINE_list("data", list(CONFIGS), "Embedded twins to ablate on.")
flags.DEFINE_list("only", [], "Ablations to run (all if empty).")
flags.DEFINE_string("runs_dir", "runs/ablations", "Where runs go.")
flags.DEFINE_string("results_dir", "results", "Where results go.")
flags.DEFINE_bool("dry_run", False, "Print the commands only.")


def commands(data: str, ablation: Ablation, runs_dir: str,
             results_dir: str) -> Sequence[Tuple[str, Sequence[str]]]:
  """(output that proves it done, argv) of the run's training and probe."""
  run = BY_NAME[ablation.run_name]
  model_dir = os.path.join(runs_dir, data, run.name)
  output = os.path.join(results_dir, "ablations", data, f"{ablation.name}.json")
  train = [sys.executable, "-m", "s2l.train", f"--gin_file={CONFIGS[data]}",
           f"--model_dir={model_dir}"] + [
               f"--gin_param={p}" for p in run.train]
  probe = [sys.executable, "-m", "s2l.evaluate", f"--model_dir={model_dir}",
           f"--gin_param=evaluate.output = '{output}'"] + [
               f"--gin_param={p}" for p in PROBE + ablation.probe]
  return [(os.path.join(model_dir, "encoder", "saved_model.pb"), train),
          (output, probe)]


def _cell(results: Dict, task: str, baseline: str) -> str:
  cell = results[task][baseline]["1000"]
  digits = 1 if cell["metric"] == "mse" else 3
  return f"{cell['mean']:.{digits}f} ± {cell['std']:.{digits}f}"


def table(results_dir: str) -> str:
  """The markdown table of every finished ablation."""
  lines = []
  for data in CONFIGS:
    rows = []
    for ablation in ABLATIONS:
      path = os.path.join(results_dir, "ablations", data,
                          f"{ablation.name}.json")
      if not os.path.exists(path):
        continue
      with open(path) as f:
        report = json.load(f)
      results, rep = report["results"], report["representation"]
      rows.append("| " + " | ".join([
          f"`{ablation.name}`: {ablation.change}",
          *(f"{_cell(results, t, 'pretrained')} / "
            f"{_cell(results, t, 'random')}"
            for t in ("instrument_family", "instrument", "pitch")),
          f"{report['upstream'].get('partial_ranks', float('nan')):.3f}",
          f"{100 * rep['pretrained']['dead_fraction']:.0f}% / "
          f"{100 * rep['random']['dead_fraction']:.0f}%",
          f"{rep['pretrained']['effective_dimension']:.1f} / "
          f"{rep['random']['effective_dimension']:.1f}"]) + " |")
    if rows:
      lines += [f"### {data}", "",
                "| ablation | family acc | instrument acc | pitch MSE | "
                "held-out partial ranks | dead units | effective dimension |",
                "|---|---|---|---|---|---|---|", *rows, ""]
  return "\n".join(
      ["# Ablations: pre-trained / random encoder, 1000 labels, 3 seeds", "",
       "Each cell is pre-trained / random (the run's own initial weights), "
       "mean ± std over 3 probe seeds (labelled subset, head init and order).",
       "Dead units and effective dimension are those of the probed layer on "
       "the labelled pool. Regenerate with `python experiments/ablations.py`.",
       ""] + lines)


def collapse_curves(model_dir: str) -> Dict[str, Tuple[list, list]]:
  """{tag: (steps, values)} of the `collapse/…` scalars a run wrote."""
  from s2l import events  # pylint: disable=g-import-not-at-top
  return events.scalars(model_dir, "train", prefix="collapse/")


def plot_collapse(runs_dir: str, path: str,
                  names: Sequence[str] = ("default", "lr1e-4", "lr1e-5",
                                          "lr1e-6", "lr1e-5_steps10000",
                                          "seed1", "seed2", "dropout_lr1e-4",
                                          "depth5_lr1e-4")
                  ) -> None:
  """Dead per-patch units and the embedding's effective dimension against
  the training step, one line per run of `names` found in `runs_dir`, one
  row per twin."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  tags = (("collapse/patch_features_dead_fraction", "dead fc6 units"),
          ("collapse/embedding_dead_fraction", "dead embedding units"),
          ("collapse/embedding_effective_dimension",
           "embedding effective dimension"))
  fig, axes = plt.subplots(len(CONFIGS), len(tags), figsize=(13, 6.5),
                           squeeze=False)
  for row, data in enumerate(CONFIGS):
    for name in names:
      curves = collapse_curves(os.path.join(runs_dir, data, name))
      if not curves:
        continue
      setting = dict(p.split(" = ") for p in BY_NAME[name].train)
      label = (f"Adam {setting['train.learning_rate']}, "
               f"{setting['train.train_steps']} steps" + "".join(
                   f", {k.split('.')[-1]} {v}" for k, v in setting.items()
                   if k not in ("train.learning_rate", "train.train_steps")))
      for column, (tag, title) in enumerate(tags):
        if tag in curves:
          axes[row, column].plot(*curves[tag], marker=".", label=label)
        axes[row, column].set_title(f"{data}: {title}", fontsize=9)
        axes[row, column].set_xscale("log")
        axes[row, column].set_xlabel("training step", fontsize=8)
    axes[row, 0].legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(path, dpi=80)
  plt.close(fig)


def main(argv):
  del argv
  os.chdir(ROOT)
  chosen = [BY_NAME[name] for name in FLAGS.only] if FLAGS.only else list(
      ABLATIONS)
  for data in FLAGS.data:
    if data not in CONFIGS:
      raise app.UsageError(f"--data must be among {sorted(CONFIGS)}.")
    for ablation in chosen:
      steps = commands(data, ablation, FLAGS.runs_dir, FLAGS.results_dir)
      if not FLAGS.dry_run and os.path.exists(steps[-1][0]):
        continue  # Probed already: its run is not needed again.
      for done, argv in steps:
        if FLAGS.dry_run:
          print(" ".join(argv))
        elif not os.path.exists(done):
          print(f"[{data}/{ablation.name}] {' '.join(argv[2:4])}",
                flush=True)
          subprocess.run(argv, check=True)
  if not FLAGS.dry_run:
    path = os.path.join(FLAGS.results_dir, "ablations.md")
    with open(path, "w") as f:
      f.write(table(FLAGS.results_dir) +
              "\n![collapse during pre-training](ablations.png)\n")
    plot_collapse(FLAGS.runs_dir,
                  os.path.join(FLAGS.results_dir, "ablations.png"))
    print(f"wrote {path} and ablations.png")


if __name__ == "__main__":
  app.run(main)
