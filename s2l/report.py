r"""The paper's tables and figures from probe results, as markdown and PNG.

    python -m s2l.report RESULTS_DIR

`RESULTS_DIR` holds one folder per experiment, with one `s2l.evaluate` JSON
per pre-training run and the `experiment.json` that `s2l.experiments` writes
(the scripts of `experiments/` run it):

    RESULTS_DIR/table1/experiment.json
    RESULTS_DIR/table1/freq10_perturbed_fenchel_young.json, ...

Each folder becomes `RESULTS_DIR/<name>.md`, and figures also
`RESULTS_DIR/<name>.png`. The layout is the one `experiment.json` names
(`s2l.plans.LAYOUTS`):

- `slicing` (paper table 2): rows are tasks, columns the slicings
  (frequency, time, time-frequency) of the pre-trained encoders.
- `methods` (tables 1, 3, 4, 5, 6): rows are tasks (one row per number of
  labelled examples when there are several) and the upstream metrics, columns
  the methods: Random Embedding, the pre-training losses, and "Without
  pre-training" when the supervised baseline ran.
- `bands` (figure 4): downstream metrics and upstream partial ranks against
  the number of frequency bands of the pretext task.
- `labels` (figure 3): each method's metric against the number of labelled
  examples, one panel per task.
- `sweep` (`s2l.plans.lr_sweep`): each loss's score under `s2l.selection`'s
  rule at each learning rate, and the rate chosen once all are probed.
- `ablations` (`s2l.plans.ablations`): one row per change, each metric
  pre-trained / own initial weights, with the collapse diagnostics.

A folder without `experiment.json` (one made before `s2l.experiments` wrote
it, or by hand) is laid out by its name instead (`layout`).

Runs of one setting that differ only in their pre-training seed are pooled
into one column (`pool`). Cells are mean ± sample standard deviation over
every (pre-training seed, probe seed) pair; the best mean of each row is in
bold (lowest for MSE, highest otherwise). Slicing and band tables add each
column's own random encoder and the relative gain over it.

The markdown and figures are written atomically (`s2l.atomic`), so a report
killed midway keeps its previous files whole; the `.<name>.tmp-*` files such
a kill can leave are ignored, here and in the results folders.
"""

import collections
import glob
import json
import math
import os
from typing import Dict, List, Optional, Sequence, Tuple

from absl import app
from absl import logging

from s2l import atomic
from s2l import selection

# How probe JSONs written before s2l.evaluate recorded the loss's label,
# column and permutation set (`pretraining.loss_label`, ...) name their loss:
# the six losses of that time, by class. A loss declared since
# (s2l.losses.register) writes its own and never needs an entry here.
_LOSSES_BEFORE_LABELS = {
    "FixedPermutationLoss": ("Fixed Permutation", 0, 100),
    "SoftRankLoss": ("Fast Soft Ranking", 1, None),
    "PerturbedFenchelYoungLoss": ("Perturbed F-Y", 2, None),
    "RankMSELoss": ("MSE", 3, None),
    "ListMLELoss": ("ListMLE", None, None),
    "ApproxNDCGLoss": ("ApproxNDCG", None, None),
}
RANDOM, SUPERVISED = "Random Embedding", "Without pre-training"
FIXED_NOTE = (
    "\n† Pre-trained and evaluated on its own fixed set of permutations, a "
    "classification among them: its upstream figures are not comparable "
    "with those over all n! orders (the paper leaves them out).\n")
TASK_LABELS = {"instrument_family": "Instr. Family", "instrument":
               "Instr. Label", "pitch": "Pitch", "label": "Label",
               "labels": "Label"}
# Table 4's "AUC Upper" and "AUC Lower" are not defined in the paper; s2l
# reports the macro mean AUC over classes and the micro AUC of all pairs.
METRIC_LABELS = {"accuracy": "ACC", "mse": "MSE",
                 "mean_auc": "Mean AUC, macro", "micro_auc": "AUC, micro"}
AUC_NOTE = (
    "\nThe paper's table 4 reports an \"AUC Upper\" and an \"AUC Lower\" "
    "figure without defining them. s2l reports two defined quantities in "
    "their place: the macro mean AUC (each class's ROC AUC, averaged over "
    "classes) and the micro AUC (the ROC AUC of all (image, class) pairs "
    "pooled, which weighs frequent classes more). Neither bounds the other.\n")
UPSTREAM_LABELS = (("partial_ranks", "Partial Ranks Accuracy"),
                   ("exact_permutation", "Exact Permutation Accuracy"))
# The probed embedding's collapse diagnostics (s2l.diagnostics), as written.
REPRESENTATION_LABELS = (
    ("dead_fraction", "Embedding: dead units", "{:.0%}"),
    ("effective_dimension", "Embedding: effective dimension", "{:.1f}"))
# (mean, sample std), (value, None) for a single number, or None.
Cell = Optional[Tuple[float, Optional[float]]]


class ReportError(ValueError):
  """Results that cannot be laid out, with what to do about it."""


LAYOUT_FILE = "experiment.json"


def layout(folder: str) -> Dict[str, str]:
  """{"name", "title", "layout"} of an experiment folder.

  `s2l.experiments` writes them to `folder/experiment.json` (the layout is
  one of `s2l.plans.LAYOUTS`). Folders made before it did are read by their
  name: table2* is a slicing table, figure4* a bands figure, other figure*
  label-count curves, anything else a table of methods.
  """
  meta = _experiment_json(folder)
  if meta:
    return {k: meta[k] for k in ("name", "title", "layout")}
  name = os.path.basename(os.path.normpath(folder))
  kind = ("bands" if name.startswith("figure4") else
          "labels" if name.startswith("figure") else
          "slicing" if name.startswith("table2") else "methods")
  return {"name": name, "layout": kind,
          "title": name.replace("table", "Table ").replace("figure",
                                                           "Figure ")}


def _experiment_json(folder: str) -> Dict:
  """The folder's experiment.json, or {} for folders without one."""
  path = os.path.join(folder, LAYOUT_FILE)
  if not os.path.exists(path):
    return {}
  with open(path) as f:
    return json.load(f)


def planned_descriptions(folder: str) -> Dict[str, str]:
  """{probe file: what it changes} of an experiment (experiment.json's
  "descriptions"), empty for folders without them."""
  return dict(_experiment_json(folder).get("descriptions", {}))


def planned_probes(folder: str) -> List[str]:
  """The probe files an experiment plans (experiment.json's "probes"), or
  none for folders without one."""
  return list(_experiment_json(folder).get("probes", []))


def _result_paths(folder: str) -> List[str]:
  # A writer killed before its rename leaves a temporary file (s2l.atomic):
  # not a result, whatever its name.
  return sorted(p for p in glob.glob(os.path.join(folder, "*.json"))
                if os.path.basename(p) != LAYOUT_FILE
                and not atomic.is_temp(p))


def load_results(folder: str) -> List[Dict]:
  """The `s2l.evaluate` JSONs of an experiment folder, sorted by file name."""
  paths = _result_paths(folder)
  if not paths:
    raise ReportError(f"{folder} holds no .json results: run the experiment "
                      "script that writes them (see experiments/).")
  runs = []
  for path in paths:
    try:
      with open(path) as f:
        run = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
      raise ReportError(f"{path} is not valid JSON ({error}): delete it and "
                        "rerun its s2l.evaluate call.") from error
    missing = {"results", "pretraining"} - set(run)
    if missing:
      raise ReportError(f"{path} lacks {sorted(missing)}: it was not written "
                        "by s2l.evaluate; rerun its s2l.evaluate call.")
    run["path"] = path
    runs.append(run)
  return runs


def _loss(run: Dict) -> Tuple[str, Optional[int], Optional[int]]:
  """(label, paper column or None, fixed permutation set size or None) of a
  probe's pre-training loss, as s2l.evaluate recorded them."""
  pretraining = run["pretraining"]
  if "loss_label" in pretraining:
    return (pretraining["loss_label"], pretraining.get("loss_column"),
            pretraining.get("permutation_set"))
  loss = pretraining["loss"]
  return _LOSSES_BEFORE_LABELS.get(loss, (loss, None, None))


def method_label(run: Dict) -> str:
  return _loss(run)[0]


def fixed_set(run: Dict) -> bool:
  """Whether the run pre-trained on a fixed set of permutations (†)."""
  return _loss(run)[2] is not None


def loss_order(run: Dict) -> Tuple[int, int, str]:
  """Sort key: the paper's columns in its order, then the others by label."""
  label, column, _ = _loss(run)
  return (0, column, label) if column is not None else (1, 0, label)


def slicing_label(run: Dict) -> str:
  """"Frequency", "Time" or "Time-Frequency" for a spectrogram slicing."""
  nx, ny = _grid(run)
  if nx == 1 and ny > 1:
    return "Frequency"
  if ny == 1 and nx > 1:
    return "Time"
  return "Time-Frequency"


def _grid(run: Dict) -> Tuple[int, int]:
  slicing = run["pretraining"]["slicing"]
  return slicing["nx"], slicing["ny"]


def num_bands(run: Dict) -> int:
  """Frequency bands (rows of the slicing grid)."""
  return _grid(run)[1]


def _recorded(run: Dict, key: str, what: str):
  """`run["pretraining"][key]`, which probes made before s2l.evaluate
  recorded it lack.

  Raises:
    ReportError: naming the probe and `what` it does not record.
  """
  value = run["pretraining"].get(key)
  if value is None:
    raise ReportError(f"{run.get('path', 'a result')} records no {what}: "
                      "probe it again with this version of s2l.evaluate.")
  return value


def num_frames(run: Dict) -> int:
  """Frames per clip of a video pre-training (its patches)."""
  return _recorded(run, "frames", "frames per clip")


def _task_names(runs: Sequence[Dict]) -> List[str]:
  names = []
  for run in runs:
    names += [t for t in run["results"] if t not in names]
  return names


def _regimes(runs: Sequence[Dict]) -> List[int]:
  regimes = set()
  for run in runs:
    for by_baseline in run["results"].values():
      for by_regime in by_baseline.values():
        regimes.update(int(k) for k in by_regime)
  return sorted(regimes)


def _metrics(runs: Sequence[Dict], task: str) -> List[str]:
  """The task's headline metric, then any others (the micro AUC)."""
  for run in runs:
    for by_regime in run["results"].get(task, {}).values():
      for cell in by_regime.values():
        return [cell["metric"], *cell.get("also", {})]
  raise ReportError(f"no results for task {task!r}.")


def _metric(runs: Sequence[Dict], task: str) -> str:
  return _metrics(runs, task)[0]


def stats(values: Sequence[float]) -> Tuple[float, Optional[float]]:
  """(mean, sample standard deviation), the std None for a single value."""
  mean = sum(values) / len(values)
  if len(values) < 2:
    return mean, None
  return mean, (sum((v - mean) ** 2 for v in values) /
                (len(values) - 1)) ** 0.5


def _cell(run: Optional[Dict], task: str, baseline: str, regime: int,
          metric: Optional[str] = None) -> Cell:
  """(mean, sample std) of a cell's values: over probe seeds, and over
  pre-training seeds too for a pooled run (`pool`)."""
  if run is None:
    return None
  cell = run["results"].get(task, {}).get(baseline, {}).get(str(regime))
  if cell and metric not in (None, cell["metric"]):
    cell = cell.get("also", {}).get(metric)
  if not cell:
    return None
  return stats(cell["values"]) if cell.get("values") else (
      cell["mean"], cell.get("std"))


def pool(runs: Sequence[Dict]) -> Dict:
  """Several pre-training seeds of one setting as one run.

  Each cell's values are those of every run (pre-training seeds × probe
  seeds), so its sample std covers both; upstream metrics and collapse
  diagnostics are averaged. `pretraining["seed"]` becomes the list of seeds.

  Raises:
    ReportError: if two runs share a pre-training seed.
  """
  if len(runs) == 1:
    return runs[0]
  seeds = [run["pretraining"].get("seed") for run in runs]
  if None in seeds or len(set(seeds)) != len(seeds):
    raise ReportError(
        f"{' and '.join(run['path'] for run in runs)} are the same setting "
        f"with pre-training seeds {seeds}: keep one JSON per seed (each "
        "s2l.evaluate JSON records its run's seed).")
  runs = [run for _, run in sorted(zip(seeds, runs), key=lambda x: x[0])]
  pooled = json.loads(json.dumps(runs[0]))
  pooled["path"] = " + ".join(run["path"] for run in runs)
  pooled["pretraining"]["seed"] = sorted(seeds)
  for task, by_baseline in pooled["results"].items():
    for baseline, by_regime in by_baseline.items():
      for regime, cell in by_regime.items():
        others = [run["results"].get(task, {}).get(baseline, {}).get(regime)
                  for run in runs[1:]]
        if any(other is None for other in others):
          raise ReportError(f"{pooled['path']}: {task} {baseline} {regime} "
                            "is missing from some seeds' results.")
        for other in others:
          cell["values"] = cell["values"] + other["values"]
          for name, also in cell.get("also", {}).items():
            also["values"] = also["values"] + other["also"][name]["values"]
  for key in ("upstream", "representation"):
    if all(key in run for run in runs):
      pooled[key] = _average([run[key] for run in runs])
  return pooled


def _average(dicts: Sequence[Dict]) -> Dict:
  """The mean of each number (recursively) that every dict holds."""
  out = {}
  for key, value in dicts[0].items():
    values = [d.get(key) for d in dicts]
    if isinstance(value, dict) and all(isinstance(v, dict) for v in values):
      out[key] = _average(values)
    elif all(isinstance(v, (int, float)) for v in values):
      out[key] = sum(values) / len(values)
  return out


def group(runs: Sequence[Dict], key) -> Dict:
  """{key(run): the runs of that key pooled over pre-training seeds}."""
  groups = collections.OrderedDict()
  for run in runs:
    groups.setdefault(key(run), []).append(run)
  return collections.OrderedDict((k, pool(v)) for k, v in groups.items())


def row_label(task: str, metric: str, regime: Optional[int] = None) -> str:
  label = f"{TASK_LABELS.get(task, task)} ({METRIC_LABELS.get(metric, metric)})"
  return label if regime is None else f"{label}, {regime} labels"


def format_row(label: str, cells: Sequence[Cell], lower_is_better: bool,
               marked: Sequence[bool] = ()) -> str:
  """A markdown row of `mean ± std` cells, the best mean in bold.

  Cells flagged in `marked` get a dagger and do not compete for the best.
  """
  marked = list(marked) or [False] * len(cells)
  means = [c[0] for c, m in zip(cells, marked) if c is not None and not m]
  best = (min(means) if lower_is_better else max(means)) if means else None
  texts = []
  for cell, mark in zip(cells, marked):
    if cell is None:
      texts.append("–")
      continue
    text = _format(cell)
    if len(set(means)) > 1 and cell[0] == best and not mark:
      text = f"**{text}**"
    texts.append(text + (" †" if mark else ""))
  return "| " + " | ".join([label] + texts) + " |"


def _format(cell: Cell) -> str:
  if cell is None:
    return "–"
  return f"{cell[0]:.3f}" if cell[1] is None else (
      f"{cell[0]:.2f} ± {cell[1]:.2f}")


def _table(header: Sequence[str], rows: Sequence[str]) -> str:
  lines = ["| " + " | ".join(header) + " |",
           "|" + "|".join(["---"] * len(header)) + "|"]
  return "\n".join(lines + list(rows)) + "\n"


def _without_random(run: Dict) -> Dict:
  """`run` with its random encoder's results and diagnostics left out."""
  out = dict(run)
  out["results"] = {task: {b: cells for b, cells in by_baseline.items()
                           if b != "random"}
                    for task, by_baseline in run["results"].items()}
  if "representation" in run:
    out["representation"] = {b: rep for b, rep in
                             run["representation"].items() if b != "random"}
  return out


def _random_by_seed(runs: Sequence[Dict]) -> Dict:
  """{pre-training seed: a run holding only that seed's random encoder}.

  A seed starts every loss from the same weights, so one probe of them per
  seed stands for every column of that seed: the first in the paper's
  column order that probed it.
  """
  randoms = {}
  for run in sorted(runs, key=loss_order):
    if "random" not in next(iter(run["results"].values())):
      continue
    seed = run["pretraining"].get("seed")
    if seed not in randoms:
      randoms[seed] = dict(run, results={
          task: {"random": by_baseline["random"]}
          for task, by_baseline in run["results"].items()
          if "random" in by_baseline})
  return randoms


def _seeds(run: Dict) -> List:
  seed = run["pretraining"].get("seed")
  return seed if isinstance(seed, list) else [seed]


def _columns(runs: Sequence[Dict]) -> List[Tuple[str, Optional[Dict], str]]:
  """(label, run, baseline) per methods-table column, in the paper's order.

  The Random Embedding column pools the random encoder of every
  pre-training seed that some column has and that was probed in any of the
  runs; each pre-trained column keeps, under "own_random", the random
  encoder pooled over its own seeds (None if one of them was never probed),
  which its margin is measured against.
  """
  randoms = _random_by_seed(runs)
  by_method = group([_without_random(run) for run in runs], method_label)
  methods = sorted(by_method, key=lambda m: loss_order(by_method[m]))
  with_supervised = [by_method[m] for m in methods if "supervised" in next(
      iter(by_method[m]["results"].values()))]
  columns = []
  if randoms:
    seeds = sorted({s for m in methods for s in _seeds(by_method[m])
                    if s in randoms}, key=str)
    columns.append((RANDOM, pool([randoms[s] for s in seeds]), "random"))
  for m in methods:
    run = by_method[m]
    own = _seeds(run)
    run["own_random"] = (pool([randoms[s] for s in own])
                         if all(s in randoms for s in own) else None)
    columns.append((m, run, "pretrained"))
  if with_supervised:
    columns.append((SUPERVISED, with_supervised[0], "supervised"))
  return columns


def representation_rows(columns: Sequence[Tuple[str, Optional[Dict], str]]
                        ) -> List[str]:
  """Rows of the probed embedding's collapse diagnostics, per column.

  Diagnostics, not scores: no cell is bold. Columns without them (the
  end-to-end baseline, runs probed before s2l recorded them) show "–".
  """
  rows = []
  for key, label, form in REPRESENTATION_LABELS:
    cells = [(run or {}).get("representation", {}).get(baseline, {}).get(key)
             for _, run, baseline in columns]
    if any(cell is not None for cell in cells):
      rows.append("| " + " | ".join(
          [label.replace("Embedding", _layer_title(columns))] +
          ["–" if cell is None else form.format(cell)
                     for cell in cells]) + " |")
  return rows


def setting_rows(columns: Sequence[Tuple[str, Optional[Dict], str]]
                 ) -> List[str]:
  """Each pre-trained column's Adam learning rate and pre-training seeds:
  with rates chosen per loss, a column's setting is its own."""
  def text(run, baseline, read):
    if baseline not in ("pretrained", "random") or run is None:
      return "–"
    value = read(run["pretraining"])
    if value is None:
      return "?"
    if isinstance(value, list):
      return ", ".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)
  rates = [text(run, b, lambda p: p.get("learning_rate") and selection.lr_label(
      p["learning_rate"])) if b == "pretrained" else "–"
           for _, run, b in columns]
  seeds = [text(run, b, lambda p: p.get("seed")) for _, run, b in columns]
  return ["| " + " | ".join(["Adam learning rate", *rates]) + " |",
          "| " + " | ".join(["Pre-training seeds", *seeds]) + " |"]


MARGIN_NOTE = (
    "\nMargin over random: the difference between a column's mean and that "
    "of the random encoder of the same pre-training seeds (the initial "
    "weights its runs started from), positive where the pre-trained encoder "
    "is better, in units of the larger of the two cells' sample stds. Above "
    "2, the means are further apart than twice either cell's spread over its "
    "(pre-training seed, probe seed) pairs. The random column "
    "pools the initial weights of every pre-training seed it lists (a seed "
    "starts every loss from the same weights, so one probe of them serves "
    "every column of that seed).\n")


def margin(pretrained: Cell, random: Cell, metric: str) -> Optional[float]:
  """How far `pretrained`'s mean is ahead of `random`'s (positive: better),
  in units of the larger of their sample stds; None without both stds."""
  if pretrained is None or random is None or None in (pretrained[1],
                                                      random[1]):
    return None
  spread = max(pretrained[1], random[1])
  ahead = pretrained[0] - random[0]
  if metric == "mse":
    ahead = -ahead
  if spread == 0:
    return None if ahead == 0 else math.copysign(math.inf, ahead)
  return ahead / spread


def _against_own_random(run: Dict, task: str, regime: int, metric: str
                        ) -> Tuple[Cell, Cell]:
  """A pre-trained column's cell and that of the random encoder of its own
  pre-training seeds (`_columns`' "own_random"; None if unprobed)."""
  return (_cell(run, task, "pretrained", regime, metric),
          _cell(run.get("own_random"), task, "random", regime, metric))


def margins(runs: Sequence[Dict]) -> Dict[str, Dict[str, Dict[int, Dict]]]:
  """What a methods table's margin rows say, as numbers.

  Returns {method label: {task: {labels: {"metric", "pretrained", "random",
  "gap", "margin", "seeds"}}}} for each pre-trained column of
  `methods_table(runs)` whose pre-training seeds all have a probed random
  encoder. "pretrained" and "random" are [mean, sample std] pooled over the
  (pre-training seed, probe seed) pairs (the random encoder of the column's
  own seeds); "gap" is the difference of the means, positive where the
  pre-trained encoder is better; "margin" is `margin` (the gap in units of
  the larger std, None without both stds).
  """
  out: Dict[str, Dict[str, Dict[int, Dict]]] = {}
  for label, run, baseline in _columns(runs):
    if baseline != "pretrained" or run.get("own_random") is None:
      continue
    for task in _task_names(runs):
      metric = _metric(runs, task)
      for regime in _regimes(runs):
        mine, theirs = _against_own_random(run, task, regime, metric)
        if mine is None or theirs is None:
          continue
        gap = mine[0] - theirs[0]
        out.setdefault(label, {}).setdefault(task, {})[regime] = {
            "metric": metric, "pretrained": list(mine),
            "random": list(theirs), "gap": -gap if metric == "mse" else gap,
            "margin": margin(mine, theirs, metric), "seeds": _seeds(run)}
  return out


def _margin_rows(label: str, columns, task: str, regime: int,
                 metric: str) -> List[str]:
  """A row under a methods table's metric row: each pre-trained column's
  `margin` over the random encoder of its own pre-training seeds (none
  without a Random Embedding column)."""
  if not columns or columns[0][2] != "random":
    return []
  texts = []
  for _, run, baseline in columns:
    value = None
    if baseline == "pretrained":
      value = margin(*_against_own_random(run, task, regime, metric),
                     metric)
    # round() first: a difference of 1e-17 is no margin, not "-0.0".
    texts.append("–" if value is None else f"{round(value, 1) + 0.0:+.1f}")
  if all(text == "–" for text in texts):
    return []
  return ["| " + " | ".join([f"{label}: margin over random (std)"] + texts)
          + " |"]


def methods_table(runs: Sequence[Dict]) -> str:
  """Paper tables 1, 3, 4, 5, 6: tasks (× regimes) by methods."""
  columns = _columns(runs)
  regimes = _regimes(runs)
  rows = []
  margins = False
  for task in _task_names(runs):
    headline, *_ = metrics = _metrics(runs, task)
    for regime in regimes:
      for metric in metrics:
        cells = [_cell(run, task, baseline, regime, metric)
                 for _, run, baseline in columns]
        label = row_label(task, metric, regime if len(regimes) > 1 else None)
        rows.append(format_row(label, cells,
                               lower_is_better=metric == "mse"))
        if metric == headline:
          margin_rows = _margin_rows(label, columns, task, regime, metric)
          margins = margins or bool(margin_rows)
          rows += margin_rows
  for key, label in UPSTREAM_LABELS:
    cells = [None if baseline != "pretrained" or key not in run.get(
        "upstream", {}) else (run["upstream"][key], None)
             for _, run, baseline in columns]
    fixed = [baseline == "pretrained" and fixed_set(run)
             for _, run, baseline in columns]
    if any(cells):
      rows.append(format_row(label, cells, lower_is_better=False,
                             marked=fixed))
  rows += representation_rows(columns)
  rows += setting_rows(columns)
  header = ["Task"] + [_random_title(columns) if label == RANDOM else label
                       for label, _, _ in columns]
  table = _table(header, rows)
  if any(baseline == "pretrained" and fixed_set(run)
         for _, run, baseline in columns):
    table += FIXED_NOTE
  if margins:
    table += MARGIN_NOTE
  return table


def slicing_table(runs: Sequence[Dict]) -> str:
  """Paper table 2: tasks by slicing of the pre-trained encoder."""
  by_slicing = group(runs, slicing_label)
  order = ["Frequency", "Time", "Time-Frequency"]
  columns = sorted(by_slicing, key=order.index)
  regimes = _regimes(runs)
  rows = []
  for task in _task_names(runs):
    metric = _metric(runs, task)
    for regime in regimes:
      label = row_label(task, metric, regime if len(regimes) > 1 else None)
      rows.append(format_row(
          label,
          [_cell(by_slicing[c], task, "pretrained", regime) for c in columns],
          lower_is_better=metric == "mse"))
      rows += _random_rows(label, [by_slicing[c] for c in columns], task,
                           regime)
  for key, label in UPSTREAM_LABELS:
    cells = [(by_slicing[c]["upstream"][key], None)
             if key in by_slicing[c].get("upstream", {}) else None
             for c in columns]
    if any(cells):
      rows.append(format_row(label, cells, lower_is_better=False))
  header = ["Task"] + [
      f"{c} ({_grid(by_slicing[c])[0] * _grid(by_slicing[c])[1]} patches)"
      for c in columns]
  return _table(header, rows) + _confound_note(by_slicing.values())


CONFOUND_NOTE = (
    "\nThe slicing and the number of bands change the encoder's input (each "
    "patch is standardised on its own), so they change what an untrained "
    "encoder scores too. {missing} here: such a column's raw metric mixes "
    "the effect of the front end with that of pre-training, and only a gain "
    "over its own random encoder measures pre-training.\n")


def _has_random(run: Dict) -> bool:
  return all("random" in by_baseline for by_baseline in
             run["results"].values())


def _confound_note(runs) -> str:
  runs = list(runs)
  missing = [run for run in runs if not _has_random(run)]
  if not missing:
    return ""
  return CONFOUND_NOTE.format(
      missing="No column has a random encoder of its own" if len(missing) ==
      len(runs) else f"{len(missing)} of the {len(runs)} columns have no "
      "random encoder of their own")


def _gain(pretrained: Cell, random: Cell, metric: str) -> Optional[str]:
  """The relative gain of the means over the random encoder, as text."""
  if pretrained is None or random is None:
    return None
  return f"{selection.relative_gain(pretrained[0], random[0], metric):+.1%}"


def _random_rows(label: str, runs: Sequence[Dict], task: str,
                 regime: int) -> List[str]:
  """Rows under a metric row: each column's own random encoder, and the
  pre-trained encoder's relative gain over it (positive is better)."""
  if not any(_has_random(run) for run in runs):
    return []
  metric = _metric(runs, task)
  randoms = [_cell(run, task, "random", regime) for run in runs]
  gains = [_gain(_cell(run, task, "pretrained", regime), random, metric)
           for run, random in zip(runs, randoms)]
  return ["| " + " | ".join([f"{label}: own random encoder"] +
                            [_format(c) for c in randoms]) + " |",
          "| " + " | ".join([f"{label}: gain over it"] +
                            [g or "–" for g in gains]) + " |"]



def encoder_step(run: Dict) -> int:
  """The pre-training step of the probed encoder."""
  return run["encoder_step"]


def train_examples(run: Dict) -> int:
  """The pre-training examples: the run's `train.train_examples`, or its
  whole training split (the labelled pool, which is the whole split when it
  is below `evaluate.labelled_pool`)."""
  return run["pretraining"].get("train_examples") or run["labelled_pool"]


def network_width(run: Dict) -> float:
  """The pre-trained CFN's channel multiplier (1.0 is AlexNet's)."""
  return _recorded(run, "width", "network width")


def bands_table(runs: Sequence[Dict]) -> str:
  """Figure 4's numbers: one row per number of frequency bands."""
  return _curve_table(runs, num_bands, "Frequency bands")


def frames_table(runs: Sequence[Dict]) -> str:
  """Video: one row per number of frames per clip."""
  return _curve_table(runs, num_frames, "Frames per clip")


def steps_table(runs: Sequence[Dict]) -> str:
  """The gain against pre-training steps: one row per encoder step."""
  return _curve_table(runs, encoder_step, "Pre-training steps")


def data_table(runs: Sequence[Dict]) -> str:
  """The gain against pre-training examples: one row per training size."""
  return _curve_table(runs, train_examples, "Pre-training examples")


def width_table(runs: Sequence[Dict]) -> str:
  """The gain against the network's width: one row per width."""
  return _curve_table(runs, network_width, "Network width")


def _curve_table(runs: Sequence[Dict], key, first: str) -> str:
  """One row per value of `key(run)`, pooled over pre-training seeds: each
  task's metric, its own random encoder and the gain over it, and the
  held-out partial ranks."""
  runs = list(group(sorted(runs, key=key), key).values())
  regimes = _regimes(runs)
  tasks = _task_names(runs)
  with_random = any(_has_random(run) for run in runs)
  header = [first]
  for t in tasks:
    for r in regimes:
      label = row_label(t, _metric(runs, t), r if len(regimes) > 1 else None)
      header += [label] + ([f"{label}: own random", f"{label}: gain"]
                           if with_random else [])
  header.append("Partial Ranks Accuracy")
  rows = []
  for run in runs:
    texts = []
    for t in tasks:
      for r in regimes:
        pretrained = _cell(run, t, "pretrained", r)
        texts.append(_format(pretrained))
        if with_random:
          random = _cell(run, t, "random", r)
          texts += [_format(random),
                    _gain(pretrained, random, _metric(runs, t)) or "–"]
    upstream = run.get("upstream", {}).get("partial_ranks")
    texts.append("–" if upstream is None else f"{upstream:.3f}")
    rows.append("| " + " | ".join([str(key(run))] + texts) + " |")
  return _table(header, rows) + _confound_note(runs)


def _pyplot():
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  return plt


def _save(fig, path: str) -> None:
  """Saves a figure atomically, in the format its extension names."""
  with atomic.replacing(path) as temp:
    # The temporary name has no extension to infer the format from.
    fig.savefig(temp, dpi=120,
                format=os.path.splitext(path)[1][1:].lower() or "png")


def _axis_label(task: str, metric: str) -> str:
  better = "lower" if metric == "mse" else "higher"
  return f"{row_label(task, metric)}, {better} is better"


def plot_labels_curves(runs: Sequence[Dict], path: str,
                       title: str = "") -> None:
  """Paper figure 3: metric vs labelled examples, a line per method."""
  plt = _pyplot()
  columns = _columns(runs)
  tasks = _task_names(runs)
  regimes = _regimes(runs)
  fig, axes = plt.subplots(1, len(tasks), figsize=(4.5 * len(tasks), 3.6),
                           squeeze=False)
  for ax, task in zip(axes[0], tasks):
    metric = _metric(runs, task)
    for label, run, baseline in columns:
      points = [(r, _cell(run, task, baseline, r)) for r in regimes]
      points = [(r, c) for r, c in points if c is not None]
      if not points:
        continue
      xs = [r for r, _ in points]
      means = [c[0] for _, c in points]
      stds = [c[1] or 0.0 for _, c in points]
      style = "--" if baseline != "pretrained" else "-"
      ax.errorbar(xs, means, yerr=stds, label=label, linestyle=style,
                  marker="o", markersize=4, capsize=3)
    ax.set_xscale("log")
    ax.set_xticks(regimes)
    ax.set_xticklabels([str(r) for r in regimes])
    ax.set_xlabel("labelled examples")
    ax.set_ylabel(_axis_label(task, metric))
    ax.grid(alpha=0.3)
  axes[0][-1].legend(fontsize=8, loc="best")
  if title:
    fig.suptitle(title)
  fig.tight_layout()
  _save(fig, path)
  plt.close(fig)


def plot_bands_curves(runs: Sequence[Dict], path: str,
                      title: str = "") -> None:
  """Paper figure 4: metrics vs number of frequency bands."""
  _plot_curves(runs, path, title, num_bands, "frequency bands (patches)",
               chance=lambda bands: 1 / bands)


def plot_frames_curves(runs: Sequence[Dict], path: str,
                       title: str = "") -> None:
  """Video: metrics, against their own random encoder, vs frames per
  clip."""
  _plot_curves(runs, path, title, num_frames, "frames per clip (patches)",
               chance=lambda frames: 1 / frames)


def _one_slicing_chance(runs: Sequence[Dict]):
  """Partial-ranks chance, 1/n, of runs that share one slicing, whatever
  the x value."""
  patches = num_bands(runs[0]) * _grid(runs[0])[0]
  return lambda _: 1 / patches


def plot_steps_curves(runs: Sequence[Dict], path: str,
                      title: str = "") -> None:
  """Metrics, against their own random encoder, vs pre-training steps."""
  _plot_curves(runs, path, title, encoder_step, "pre-training steps",
               chance=_one_slicing_chance(runs), log_x=True)


def plot_data_curves(runs: Sequence[Dict], path: str,
                     title: str = "") -> None:
  """Metrics, against their own random encoder, vs pre-training examples."""
  _plot_curves(runs, path, title, train_examples, "pre-training examples",
               chance=_one_slicing_chance(runs), log_x=True)


def plot_width_curves(runs: Sequence[Dict], path: str,
                      title: str = "") -> None:
  """Metrics, against their own random encoder, vs the network's width."""
  _plot_curves(runs, path, title, network_width,
               "network width (1.0 is AlexNet)",
               chance=_one_slicing_chance(runs), log_x=True)


def _plot_curves(runs: Sequence[Dict], path: str, title: str, key,
                 xlabel: str, chance, log_x: bool = False) -> None:
  """One panel per task (pre-trained and own random encoder against
  `key(run)`, pooled over pre-training seeds) and one of the held-out
  partial ranks with `chance(x)`."""
  plt = _pyplot()
  runs = list(group(sorted(runs, key=key), key).values())
  tasks = _task_names(runs)
  regimes = _regimes(runs)
  bands = [key(run) for run in runs]
  fig, axes = plt.subplots(1, len(tasks) + 1,
                           figsize=(4.2 * (len(tasks) + 1), 3.6),
                           squeeze=False)
  for ax, task in zip(axes[0], tasks):
    metric = _metric(runs, task)
    for regime in regimes:
      for baseline, style in (("pretrained", "-"), ("random", "--")):
        cells = [_cell(run, task, baseline, regime) for run in runs]
        points = [(b, c) for b, c in zip(bands, cells) if c is not None]
        if not points:
          continue
        ax.errorbar([b for b, _ in points], [c[0] for _, c in points],
                    yerr=[c[1] or 0.0 for _, c in points], marker="o",
                    markersize=4, capsize=3, linestyle=style,
                    label=f"{regime} labels" + (
                        ", own random encoder" if baseline == "random"
                        else ""))
    ax.set_ylabel(_axis_label(task, metric))
  ax = axes[0][-1]
  points = [(b, run["upstream"]["partial_ranks"]) for b, run in
            zip(bands, runs) if "partial_ranks" in run.get("upstream", {})]
  ax.plot([b for b, _ in points], [p for _, p in points], marker="o",
          color="black", label="held-out partial ranks")
  ax.plot(bands, [chance(b) for b in bands], linestyle=":", color="gray",
          label="chance (1/n)")
  ax.set_ylabel("Partial Ranks Accuracy (pretext)")
  for ax in axes[0]:
    ax.set_xlabel(xlabel)
    if log_x:
      ax.set_xscale("log")
      # Only the measured values are labelled: within a decade matplotlib
      # would also label its minor ticks (3×10^-1 between 0.25 and 0.5).
      ax.minorticks_off()
    ax.set_xticks(bands)
    ax.set_xticklabels([str(b) for b in bands])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
  if title:
    fig.suptitle(title)
  fig.tight_layout()
  _save(fig, path)
  plt.close(fig)


def _planned_rates(expected: Sequence[str]) -> Dict[str, List[float]]:
  """{run name stem: the rates the plan probes} from the plan's probe file
  names, `<stem>_lr<rate>.json` (rates spelt as `s2l.selection.lr_label`)."""
  stems = collections.defaultdict(list)
  for name in expected:
    if "_lr" in name:
      stem, rate = name[:-len(".json")].rsplit("_lr", 1)
      stems[stem].append(float(rate))
  return {stem: sorted(rates) for stem, rates in stems.items()}


def sweep_table(runs: Sequence[Dict], expected: Sequence[str] = ()) -> str:
  """A hyperparameter sweep (`s2l.plans.lr_sweep`): each loss's score under
  `s2l.selection`'s rule at each learning rate, the chosen one in bold, then
  every run's validation metrics against its own initial weights.

  With `expected` (the plan's probe file names, from experiment.json), a loss
  whose probes so far do not settle its rate (`s2l.selection.settled`) gets
  no choice yet ("pending"), and losses not probed at all are named.
  """
  try:
    chosen = selection.choose(runs)
  except selection.SelectionError as error:
    raise ReportError(str(error)) from error
  planned = _planned_rates(expected)
  stems = {run["pretraining"]["loss"]: os.path.basename(run["path"])[
      :-len(".json")].rsplit("_lr", 1)[0] for run in runs}
  rates = sorted({lr for _, ranked in chosen.values() for lr, _ in ranked})
  one_run = {run["pretraining"]["loss"]: run for run in runs}
  losses = sorted(chosen, key=lambda l: loss_order(one_run[l]))
  rows = []
  for loss in losses:
    best, ranked = chosen[loss]
    scores = dict(ranked)
    cells = []
    for lr in rates:
      text = "–" if lr not in scores else f"{scores[lr]:+.1%}"
      cells.append(f"**{text}**" if lr == best else text)
    grid = planned.get(stems.get(loss), [lr for lr, _ in ranked])
    if selection.settled(ranked, grid):
      verdict = selection.lr_label(best)
      if len(ranked) < len(set(grid) | set(scores)):
        verdict += f" (settled by {len(ranked)} of {len(grid)} rates)"
    else:
      verdict = f"pending ({len(ranked)} of {len(grid)} rates probed)"
      cells = [c.strip("*") for c in cells]
    rows.append("| " + " | ".join([method_label(one_run[loss]), *cells,
                                    verdict]) + " |")
  body = ("Score of each learning rate (mean relative gain over the run's "
          "own initial weights, validation split); chosen in bold.\n\n" +
          _table(["Loss", *(selection.lr_label(lr) for lr in rates),
                  "Chosen"], rows))
  missing = sorted(set(planned) - set(stems.values()))
  if missing:
    body += ("\nNot probed yet: " + ", ".join(
        f"{stem} ({len(planned[stem])} rates)" for stem in missing) + ".\n")
  tasks = _task_names(runs)
  detail = []
  for run in sorted(runs, key=lambda r: (
      losses.index(r["pretraining"]["loss"]),
      r["pretraining"]["learning_rate"])):
    cells = []
    for task in tasks:
      (regime,) = run["results"][task]["pretrained"]
      pre = _cell(run, task, "pretrained", int(regime))
      ran = _cell(run, task, "random", int(regime))
      cells.append(f"{_format(pre)} / {_format(ran)}")
    detail.append("| " + " | ".join(
        [method_label(run),
         selection.lr_label(run["pretraining"]["learning_rate"]), *cells,
         (_format((run["upstream"]["partial_ranks"], None)) +
          (" †" if fixed_set(run) else ""))
         if "partial_ranks" in run.get("upstream", {}) else "–"]) + " |")
  body += ("\nValidation metrics, pre-trained / own initial weights:\n\n" +
           _table(["Loss", "Learning rate",
                   *(row_label(t, _metric(runs, t)) for t in tasks),
                   "Partial ranks (held out)"], detail))
  body += f"\nRule: {selection.RULE}.\n"
  if any(fixed_set(run) for run in runs):
    body += FIXED_NOTE
  return body


def _ablation_cell(run: Dict, task: str, baseline: str) -> str:
  """`mean ± sample std` of a probe's one regime, 3 decimals (1 for MSE)."""
  (regime,) = run["results"][task][baseline]
  mean, std = _cell(run, task, baseline, int(regime))
  digits = 1 if run["results"][task][baseline][regime]["metric"] == "mse" \
      else 3
  return f"{mean:.{digits}f} ± {std:.{digits}f}"


def ablation_table(runs: Sequence[Dict], expected: Sequence[str] = (),
                   descriptions: Optional[Dict[str, str]] = None) -> str:
  """One row per ablation, in the plan's order: each task's metric
  pre-trained / own initial weights, the held-out partial ranks, and the
  probed embedding's dead units and effective dimension (pre-trained /
  initial).

  Args:
    runs: the probe results (one regime each).
    expected: the plan's probe files (experiment.json), for the order.
    descriptions: {probe file: what it changes}.
  """
  descriptions = descriptions or {}
  by_file = {os.path.basename(run["path"]): run for run in runs}
  order = [f for f in expected if f in by_file] + sorted(
      set(by_file) - set(expected))
  tasks = _task_names(runs)
  rows = []
  for name in order:
    run, rep = by_file[name], by_file[name]["representation"]
    change = descriptions.get(name)
    rows.append("| " + " | ".join([
        f"`{name[:-len('.json')]}`" + (f": {change}" if change else ""),
        *(f"{_ablation_cell(run, t, 'pretrained')} / "
          f"{_ablation_cell(run, t, 'random')}" for t in tasks),
        f"{run.get('upstream', {}).get('partial_ranks', float('nan')):.3f}",
        f"{100 * rep['pretrained']['dead_fraction']:.0f}% / "
        f"{100 * rep['random']['dead_fraction']:.0f}%",
        f"{rep['pretrained']['effective_dimension']:.1f} / "
        f"{rep['random']['effective_dimension']:.1f}"]) + " |")
  missing = [f[:-len(".json")] for f in expected if f not in by_file]
  body = ("Each cell is pre-trained / the run's own initial weights. Dead "
          "units and effective dimension are those of the probed layer on "
          "the labelled pool.\n\n" + _table(
              ["Ablation", *(row_label(t, _metric(runs, t)) for t in tasks),
               "Partial ranks (held out)", "Dead units",
               "Effective dimension"], rows))
  if missing:
    body += "\nNot probed yet: " + ", ".join(missing) + ".\n"
  return body


def _values(runs: Sequence[Dict], read) -> str:
  """The distinct values of `read(run)` over runs, as text ("?" unknown)."""
  return ", ".join(_distinct(runs, read))


def _distinct(runs: Sequence[Dict], read) -> List[str]:
  """The distinct values of `read(run)` over runs, each as text ("?"
  unknown), in the order first met."""
  values = []
  for run in runs:
    try:
      value = read(run)
    except (KeyError, TypeError):
      value = None
    value = "?" if value is None else (
        f"{value:g}" if isinstance(value, float) else str(value))
    if value not in values:
      values.append(value)
  return values


def setting_line(runs: Sequence[Dict]) -> str:
  """The data, setting and protocol in a few words, for a figure's title:
  source; Adam rate(s), steps, pre-training seed(s); probe head; split."""
  seeds = _numeric_order(_distinct(runs,
                                   lambda r: r["pretraining"]["seed"]))
  return (f"{_values(runs, lambda r: r['source'])}; Adam "
          f"{_values(runs, lambda r: r['pretraining']['learning_rate'])}, "
          f"{_values(runs, lambda r: r['pretraining']['train_steps'])} steps,"
          f" pre-training seed {', '.join(seeds)};"
          f" {_values(runs, lambda r: r['head'])} probe,"
          f" scored on {_values(runs, lambda r: r['test_split'])}")


def _numeric_order(values: List[str]) -> List[str]:
  """`values` in numeric order where every one is an integer, else as is."""
  if all(v.lstrip("-").isdigit() for v in values):
    return sorted(values, key=int)
  return values


# How a caption names the layer a probe read (`evaluate.layer`; a JSON from
# before it was a knob read the embedding).
_LAYER_WORDS = {"embedding": "embedding",
                "patch_features": "patch features (fc6, concatenated)"}


def _layer_title(columns: Sequence[Tuple[str, Optional[Dict], str]]
                 ) -> str:
  """What the diagnostics rows were measured on: "Embedding", or "Patch
  features (fc6)" when every column was probed there."""
  layers = {(run or {}).get("layer", "embedding") for _, run, _ in columns
            if run is not None}
  return "Patch features (fc6)" if layers == {"patch_features"} else (
      "Embedding" if layers <= {"embedding"} else "Probed layer")


def _random_title(columns: Sequence[Tuple[str, Optional[Dict], str]]
                  ) -> str:
  """The random encoder's column: the paper's "Random Embedding", or named
  for the layer every column was probed at ("Random Encoder" when mixed)."""
  return {"Embedding": RANDOM,
          "Patch features (fc6)": "Random Patch Features (fc6)",
          "Probed layer": "Random Encoder"}[_layer_title(columns)]


def _head_epoch_words(runs: Sequence[Dict]) -> str:
  """How the probe heads were kept, where any was chosen on validation (a
  JSON without `head_epoch` kept its heads' last epoch, as the paper)."""
  kept = {r.get("head_epoch", "last") for r in runs}
  if kept == {"last"}:
    return ""
  words = {"last": "after its last epoch",
           "validation": "at the epoch of its best validation score"}
  return ("head kept " + " or ".join(words[k] for k in sorted(kept)) +
          ", ")


def _caption(runs: Sequence[Dict]) -> str:
  """What a table or figure was made from: data, pre-training setting and
  probe protocol ("?" where an older JSON does not say)."""
  seeds = sorted({len(cell["values"]) for run in runs
                  for by_baseline in run["results"].values()
                  for by_regime in by_baseline.values()
                  for cell in by_regime.values()})
  random_origin = _values([r for r in runs if r.get("random_baseline")],
                          lambda r: r["random_baseline"])
  return (
      f"Data: {_values(runs, lambda r: r['source'])}. Pre-training: "
      f"{_values(runs, lambda r: r['pretraining']['train_steps'])} steps, "
      "Adam learning rate "
      f"{_values(runs, lambda r: r['pretraining']['learning_rate'])}, seed "
      f"{_values(runs, lambda r: r['pretraining']['seed'])}. Probe: "
      f"{_values(runs, lambda r: r['head'])} head on the frozen "
      f"{_values(runs, lambda r: _LAYER_WORDS[r.get('layer', 'embedding')])}"
      ", "
      f"{_head_epoch_words(runs)}"
      "labelled examples "
      f"{_values(runs, lambda r: r['labelled_subsets'])} per seed, "
      f"{', '.join(str(s) for s in seeds)} probe seed(s) per cell, scored on "
      f"the {_values(runs, lambda r: r['test_split'])} split; random "
      f"baseline: {random_origin or 'none'}. Cells: "
      "mean ± sample std over every (pre-training seed, probe seed) pair "
      "of the column; upstream metrics, averaged over pre-training seeds, are"
      " on the "
      "held-out pretext batches at the probed encoder's step.\n")


def render(folder: str, output_dir: Optional[str] = None) -> List[str]:
  """Renders one experiment folder as its layout says; returns the paths
  written."""
  meta = layout(folder)
  name, title = meta["name"], meta["title"]
  output_dir = output_dir or os.path.dirname(os.path.normpath(folder))
  runs = load_results(folder)
  written = []
  body, plot = {
      "bands": (bands_table, plot_bands_curves),
      "frames": (frames_table, plot_frames_curves),
      "steps": (steps_table, plot_steps_curves),
      "data": (data_table, plot_data_curves),
      "width": (width_table, plot_width_curves),
      "labels": (methods_table, plot_labels_curves),
      "slicing": (slicing_table, None),
      "methods": (methods_table, None),
      "sweep": (sweep_table, None),
      "ablations": (ablation_table, None),
  }[meta["layout"]]
  if meta["layout"] == "sweep":
    body = sweep_table(runs, planned_probes(folder))
  elif meta["layout"] == "ablations":
    body = ablation_table(runs, planned_probes(folder),
                          planned_descriptions(folder))
  else:
    body = body(runs)
  if plot is not None:
    png = os.path.join(output_dir, f"{name}.png")
    plot(runs, png, f"{title}\n{setting_line(runs)}")
    body += f"\n![{title}]({name}.png)\n"
    written.append(png)
  caption = _caption(runs)
  if any("micro_auc" in _metrics(runs, t) for t in _task_names(runs)):
    caption += AUC_NOTE
  markdown = os.path.join(output_dir, f"{name}.md")
  atomic.write_text(markdown, f"# {title}\n\n{body}\n{caption}")
  return [markdown] + written


def render_all(results_dir: str) -> List[str]:
  """Renders every experiment folder of `results_dir`; returns the paths
  written. A folder that cannot be laid out (`ReportError`) is skipped with a
  warning that says why; ReportError if no folder could be."""
  if not os.path.isdir(results_dir):
    raise ReportError(f"{results_dir} is not a directory of experiment "
                      "folders (see experiments/).")
  folders = sorted(
      os.path.join(results_dir, d) for d in os.listdir(results_dir)
      if os.path.isdir(os.path.join(results_dir, d))
      and _result_paths(os.path.join(results_dir, d)))
  if not folders:
    raise ReportError(f"{results_dir} has no folder of .json results: run an "
                      "experiment script first (see experiments/).")
  written, skipped = [], []
  for folder in folders:
    try:
      written += render(folder, results_dir)
    except ReportError as e:
      # One folder that cannot be laid out (a hand-made folder of probes
      # for experiments/seed_summary.py, say) does not cost the others.
      skipped.append(f"{os.path.basename(folder)}: {e}")
  if skipped and not written:
    raise ReportError("no folder of " + results_dir + " could be laid out:\n"
                      + "\n".join(skipped))
  for line in skipped:
    logging.warning("s2l.report: skipped %s", line)
  return written


def main(argv):
  if len(argv) != 2:
    raise app.UsageError("usage: python -m s2l.report RESULTS_DIR")
  for path in render_all(argv[1]):
    print(path)


if __name__ == "__main__":
  app.run(main)
