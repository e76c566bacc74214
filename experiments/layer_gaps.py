r"""Each loss's gain over its random encoder at the embedding and at fc6.

    python experiments/layer_gaps.py --output=results/soundfont_notes/layer_gaps \
        --data "SoundFont twin" results/soundfont_notes/table1 \
               results/soundfont_notes/probed_layer \
        --data "FluidR3_GM folder" results/soundfont_notes/fluidr3_folder_lr3e-5 \
               results/soundfont_notes/fluidr3_folder_fc6

Each `--data NAME FOLDER...` names one data set and its methods-table
folders, one per probed layer (`evaluate.layer`, read from the probes; a
folder must hold one). For every pre-trained column, task and number of
labels, the folder's `s2l.report.margins`: the pre-trained and random means
and sample stds over the (pre-training seed, probe seed) pairs, the gap of
the means (positive where pre-training is better) and the margin, the gap in
units of the larger std (issue 17's "more than 2 standard deviations").

Writes OUTPUT.json (every number), OUTPUT.md (a table per data set) and
OUTPUT.png: a row of panels per data set, a panel per task, each loss's
margin at each layer (and each number of labels, when a folder was probed at
several) as bars beside the line at 2.
"""

import argparse
import json
import os
import sys
from typing import Dict, List, Sequence, Tuple

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from s2l import atomic  # pylint: disable=wrong-import-position
from s2l import report  # pylint: disable=wrong-import-position

# The bar every loss should clear, in standard deviations.
BAR = 2.0
LAYER_NAMES = {"embedding": "embedding", "patch_features": "fc6"}


def layer_of(runs: Sequence[Dict], folder: str) -> str:
  """The one layer the probes of `folder` read (`evaluate.layer`)."""
  layers = {run.get("layer", "embedding") for run in runs}
  if len(layers) != 1:
    raise ValueError(f"{folder} mixes probes of the layers {sorted(layers)}: "
                     "give one folder per layer.")
  return layers.pop()


def gather(data: Sequence[Sequence[str]]) -> Dict:
  """{data name: {layer: {"folder", "margins"}}} of `--data` arguments."""
  out: Dict = {}
  for name, *folders in data:
    if not folders:
      raise ValueError(f"--data {name!r} names no results folder.")
    for folder in folders:
      runs = report.load_results(folder)
      layer = layer_of(runs, folder)
      if layer in out.get(name, {}):
        raise ValueError(f"{name}: {out[name][layer]['folder']} and {folder} "
                         f"were both probed at the {layer}.")
      out.setdefault(name, {})[layer] = {
          "folder": folder,
          "margins": {method: {task: {str(r): cell for r, cell in by.items()}
                               for task, by in tasks.items()}
                      for method, tasks in report.margins(runs).items()}}
  return out


def _methods(by_layer: Dict) -> List[str]:
  methods: List[str] = []
  for entry in by_layer.values():
    methods += [m for m in entry["margins"] if m not in methods]
  return methods


def _tasks(by_layer: Dict) -> List[str]:
  tasks: List[str] = []
  for entry in by_layer.values():
    for by_task in entry["margins"].values():
      tasks += [t for t in by_task if t not in tasks]
  return tasks


def _series(by_layer: Dict) -> List[Tuple[str, str]]:
  """The (layer, number of labels) pairs of a data set, one bar each per
  loss: layers in their order, labels ascending."""
  pairs: List[Tuple[str, str]] = []
  for layer, entry in by_layer.items():
    regimes = {r for by_task in entry["margins"].values()
               for by in by_task.values() for r in by}
    pairs += [(layer, r) for r in sorted(regimes, key=int)]
  return pairs


def markdown(gathered: Dict, title: str) -> str:
  lines = [f"# {title}", "",
           "Each cell: pre-trained vs the random encoder of the same "
           "pre-training seeds (mean ± sample std over every (pre-training "
           "seed, probe seed) pair), then the gap in units of the larger std "
           "(positive where pre-training is better; issue 17's bar is 2).", ""]
  for name, by_layer in gathered.items():
    tasks = _tasks(by_layer)
    lines += [f"## {name}", "",
              "| Loss | Layer | Labels | Pre-training seeds | " +
              " | ".join(tasks) + " |",
              "|---" * (4 + len(tasks)) + "|"]
    for method in _methods(by_layer):
      for layer, entry in by_layer.items():
        by_task = entry["margins"].get(method)
        if not by_task:
          continue
        regimes = sorted({r for by in by_task.values() for r in by}, key=int)
        for regime in regimes:
          seeds = next(by[regime]["seeds"] for by in by_task.values()
                       if regime in by)
          texts = []
          for task in tasks:
            cell = by_task.get(task, {}).get(regime)
            if cell is None:
              texts.append("–")
              continue
            (mean, std), (rmean, rstd) = cell["pretrained"], cell["random"]
            spread = "" if std is None else f" ± {std:.4f}"
            rspread = "" if rstd is None else f" ± {rstd:.4f}"
            value = ("–" if cell["margin"] is None
                     else f"{cell['margin']:+.2f}")
            texts.append(f"{mean:.4f}{spread} vs {rmean:.4f}{rspread} "
                         f"({value})")
          lines.append(f"| {method} | {LAYER_NAMES.get(layer, layer)} | "
                       f"{regime} | {', '.join(map(str, seeds))} | " +
                       " | ".join(texts) + " |")
    lines.append("")
  return "\n".join(lines)


def plot(gathered: Dict, path: str, title: str) -> None:
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  columns = max(len(_tasks(by_layer)) for by_layer in gathered.values())
  fig, axes = plt.subplots(len(gathered), columns,
                           figsize=(4.6 * columns, 3.4 * len(gathered)),
                           squeeze=False)
  for row, (name, by_layer) in zip(axes, gathered.items()):
    methods = _methods(by_layer)
    series = _series(by_layer)
    several_regimes = len({regime for _, regime in series}) > 1
    width = 0.8 / len(series)
    for ax, task in zip(row, _tasks(by_layer)):
      for i, (layer, regime) in enumerate(series):
        xs, heights = [], []
        for j, method in enumerate(methods):
          cell = by_layer[layer]["margins"].get(method, {}).get(
              task, {}).get(regime)
          if cell is not None and cell["margin"] is not None:
            xs.append(j + (i - (len(series) - 1) / 2) * width)
            heights.append(max(min(cell["margin"], 30.0), -30.0))
        label = f"probed at {LAYER_NAMES.get(layer, layer)}"
        if several_regimes:
          label += f", {regime} labels"
        ax.bar(xs, heights, width=width, label=label)
      ax.axhline(BAR, color="black", linestyle="--", linewidth=1,
                 label=f"{BAR:g} std")
      ax.axhline(0.0, color="gray", linewidth=0.8)
      ax.set_xticks(range(len(methods)))
      ax.set_xticklabels(methods, rotation=20, fontsize=8)
      ax.set_title(f"{name}: {task}", fontsize=10)
      ax.set_ylabel("gain over random (std)")
      ax.grid(axis="y", alpha=0.3)
    for ax in row[len(_tasks(by_layer)):]:
      ax.axis("off")
    row[0].legend(fontsize=8, loc="best")
  fig.suptitle(title)
  fig.tight_layout()
  with atomic.replacing(path) as temp:
    fig.savefig(temp, dpi=110, format="png")
  plt.close(fig)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--data", nargs="+", action="append", required=True,
                      metavar=("NAME", "FOLDER"),
                      help="a data set's name, then its results folders "
                      "(one per probed layer)")
  parser.add_argument("--output", required=True,
                      help="path without extension of the .json, .md, .png")
  parser.add_argument("--title", default="Gain over the random encoder, "
                      "by probed layer")
  args = parser.parse_args(argv)
  gathered = gather(args.data)
  atomic.write_text(args.output + ".json", json.dumps(
      {"title": args.title, "data": gathered}, indent=2))
  text = markdown(gathered, args.title)
  atomic.write_text(args.output + ".md", text)
  plot(gathered, args.output + ".png", args.title)
  print(text)


if __name__ == "__main__":
  main()
