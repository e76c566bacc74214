"""Pools the probes of several pre-training seeds of one setting.

    python experiments/seed_summary.py --output=results/emoji_images/summary \
        results/emoji_images/grid3x3_pfy_lr1e-4_3000*.json

Each input is an `s2l.evaluate` JSON of one pre-training seed, with the
"pretrained" and "random" (the run's own initial weights) baselines. For each
task and number of labels it pools the values of every (pre-training seed,
probe seed) pair of each baseline and writes OUTPUT.json and OUTPUT.md: the
mean and the sample standard deviation (n − 1) of each baseline, the gap of
the means (positive when pre-training is better), and the gap in units of
the larger of the two standard deviations, the measure of issue 17 and 20's
bar ("more than 2 standard deviations over pre-training seeds × probe
seeds").
"""

import argparse
import json
import os
import sys
from typing import Dict, List, Optional, Sequence

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from s2l import atomic  # pylint: disable=wrong-import-position
from s2l import report  # pylint: disable=wrong-import-position


def summarise(results: Sequence[Dict],
              randoms: Optional[Sequence[Dict]] = None) -> Dict:
  """{task: {labels: {"metric", "pretrained", "random", "gap", "gap_in_std",
  "seeds"}}} pooled over `results` (one per pre-training seed).

  `randoms`: probes whose "random" baseline stands for that of `results`,
  which were probed without it: every loss of one pre-training seed starts
  from the same initial weights, so a seed's random encoder is the same
  whichever loss's probe scored it. Their seeds must be those of `results`.
  """
  if not results:
    raise ValueError("no probe JSON to pool.")
  if randoms is not None:
    seeds = sorted(r["pretraining"]["seed"] for r in results)
    random_seeds = sorted(r["pretraining"]["seed"] for r in randoms)
    if seeds != random_seeds:
      raise ValueError(f"pre-training seeds {seeds} against random encoders "
                       f"of seeds {random_seeds}: give one per seed.")
  summary: Dict = {}
  for task in results[0]["results"]:
    for regime in results[0]["results"][task]["pretrained"]:
      pooled: Dict[str, List[float]] = {"pretrained": [], "random": []}
      metric = results[0]["results"][task]["pretrained"][regime]["metric"]
      for result in results:
        pooled["pretrained"].extend(
            result["results"][task]["pretrained"][regime]["values"])
      for result in results if randoms is None else randoms:
        pooled["random"].extend(
            result["results"][task]["random"][regime]["values"])
      stats = {b: {"values": v, "mean": float(np.mean(v)),
                   "std": float(np.std(v, ddof=1))}
               for b, v in pooled.items()}
      gap = stats["pretrained"]["mean"] - stats["random"]["mean"]
      if metric == "mse":
        gap = -gap
      cells = [(stats[b]["mean"], stats[b]["std"])
               for b in ("pretrained", "random")]
      summary.setdefault(task, {})[regime] = {
          "metric": metric, **stats, "gap": gap,
          # The margin of s2l.report's methods tables, the same measure.
          "gap_in_std": report.margin(*cells, metric),
          "seeds": [r["pretraining"]["seed"] for r in results]}
  return summary


def markdown(summary: Dict, title: str) -> str:
  lines = [f"# {title}", "",
           "Pooled over every (pre-training seed, probe seed) pair; ± is the "
           "sample standard deviation (n − 1); the gap is positive when "
           "pre-training is better, and is also given in units of the larger "
           "of the two standard deviations.", "",
           "| Task | Labels | Metric | Pre-trained | Own initial weights | Gap "
           "| Gap / std | Pre-training seeds |", "|---|---|---|---|---|---|---|---|"]
  for task, by_regime in summary.items():
    for regime, cell in by_regime.items():
      in_std = cell["gap_in_std"]
      lines.append(
          f"| {task} | {regime} | {cell['metric']} | "
          f"{cell['pretrained']['mean']:.4f} ± {cell['pretrained']['std']:.4f} "
          f"| {cell['random']['mean']:.4f} ± {cell['random']['std']:.4f} | "
          f"{cell['gap']:+.4f} | "
          f"{'–' if in_std is None else format(in_std, '.2f')} | "
          f"{', '.join(map(str, cell['seeds']))} |")
  return "\n".join(lines) + "\n"


def _read(paths: Sequence[str]) -> List[Dict]:
  results = []
  for path in paths:
    with open(path) as f:
      result = json.load(f)
    if "pretraining" not in result:
      continue  # A run record, not a probe.
    results.append(result)
  return results


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("probes", nargs="+", help="s2l.evaluate JSONs")
  parser.add_argument("--output", required=True,
                      help="path without extension of the .json and .md")
  parser.add_argument("--title", default="Pre-training seeds pooled")
  parser.add_argument(
      "--random", nargs="+", default=None,
      help="probes (one per pre-training seed) whose random encoder stands "
      "for that of PROBES, probed without it (the same seed starts every "
      "loss from the same weights)")
  args = parser.parse_args(argv)
  summary = summarise(_read(args.probes),
                      None if args.random is None else _read(args.random))
  record = {"probes": [os.path.basename(p) for p in args.probes
                       if not p.endswith(".run.json")], "summary": summary}
  if args.random is not None:
    record["random_from"] = [os.path.basename(p) for p in args.random
                             if not p.endswith(".run.json")]
  atomic.write_text(args.output + ".json", json.dumps(record, indent=2))
  atomic.write_text(args.output + ".md", markdown(summary, args.title))
  print(markdown(summary, args.title))


if __name__ == "__main__":
  main()
