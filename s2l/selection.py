"""Choosing a hyperparameter per pretext loss from validation probes.

One rule for every loss, so that a comparison of losses is not a comparison
of how much each was tuned. Each candidate run of a loss (the same budget,
only the swept value differs) is probed on the validation split
(`evaluate.score_split = 'validation'`), never on test, together with its own
initial weights. Its score is the mean over the downstream tasks of its
relative gain over those weights,

    accuracy and AUC: (pretrained − random) / random,
    MSE:              (random − pretrained) / random,

so that every task counts alike whatever its scale. The candidate with the
highest score wins; an exact tie goes to the smaller value.

A grid need not be probed whole before a choice is made (`settled`): a
loss's value is settled once its best probed value's neighbours on the grid
are probed and score lower, on the assumption that the score has one peak
along the grid. The same rule stops every loss's sweep.

The inputs are `s2l.evaluate` JSONs (dicts), each with the "pretrained" and
"random" baselines at one number of labelled examples.
"""

import collections
from typing import Dict, List, Optional, Sequence, Tuple

RULE = ("the highest mean over the downstream tasks of the relative gain "
        "over the run's own initial weights on the validation split "
        "((pretrained − random) / random for accuracy, (random − pretrained) "
        "/ random for MSE); an exact tie goes to the smaller value. A loss's rate "
        "is settled once the grid rates next to its best probed rate are "
        "probed and score lower (the score is taken to have one peak along "
        "the grid), or once every grid rate is probed")


def lr_label(learning_rate: float) -> str:
  """3e-06 -> "3e-6", 2.5e-04 -> "2.5e-4": how run names, sweep tables and
  reports spell a learning rate."""
  mantissa, exponent = f"{learning_rate:e}".split("e")
  return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


class SelectionError(ValueError):
  """Probe results that the rule cannot be applied to, and why."""


def relative_gain(pretrained: float, random: float, metric: str) -> float:
  """How much better `pretrained` is than `random`, as a fraction of it.

  Positive when pretrained is better: higher accuracy or AUC, lower MSE.
  """
  if random == 0:
    raise SelectionError(f"a random-encoder {metric} of 0 has no relative "
                         "gain.")
  gain = (pretrained - random) / abs(random)
  return -gain if metric == "mse" else gain


def task_gains(result: Dict) -> Dict[str, float]:
  """{task: relative gain of the mean pretrained score over the mean
  random one} of one probe JSON, at its one number of labelled examples.

  Raises:
    SelectionError: if a task lacks either baseline, the JSON was not scored
      on the validation split, or it holds several numbers of labels.
  """
  path = result.get("path", result.get("model_dir", "a result"))
  if result.get("test_split") != "validation":
    raise SelectionError(
        f"{path} was scored on the {result.get('test_split')!r} split: "
        "selection reads validation probes only (evaluate.score_split = "
        "'validation').")
  gains = {}
  for task, by_baseline in result["results"].items():
    if not {"pretrained", "random"} <= set(by_baseline):
      raise SelectionError(f"{path}: task {task} needs the 'pretrained' and "
                           "'random' baselines.")
    regimes = set(by_baseline["pretrained"]) | set(by_baseline["random"])
    if len(regimes) != 1:
      raise SelectionError(f"{path}: task {task} has numbers of labels "
                           f"{sorted(regimes)}; select at one.")
    (regime,) = regimes
    pretrained = by_baseline["pretrained"][regime]
    random = by_baseline["random"][regime]
    gains[task] = relative_gain(pretrained["mean"], random["mean"],
                                pretrained["metric"])
  return gains


def score(result: Dict) -> float:
  """The rule's score of one candidate: its mean relative gain."""
  gains = task_gains(result)
  return sum(gains.values()) / len(gains)


def best(ranked: Sequence[Tuple[float, float]]) -> float:
  """The value the rule picks among [(value, score), ...]: the highest
  score, an exact tie to the smaller value."""
  if not ranked:
    raise SelectionError("no candidate has been probed.")
  return max(ranked, key=lambda item: (item[1], -item[0]))[0]


def choose(results: Sequence[Dict], group: str = "loss",
           value: str = "learning_rate") -> Dict[str, Tuple[float, List]]:
  """Applies the rule to every group of candidates.

  Args:
    results: probe JSONs; `result["pretraining"][group]` names the group
      (the loss) and `result["pretraining"][value]` the swept value.
    group, value: keys of the "pretraining" description.

  Returns:
    {group: (chosen value, [(value, score), ...] ascending by value)}.

  Raises:
    SelectionError: for a result without the keys, or two candidates of a
      group with the same value.
  """
  by_group = collections.defaultdict(dict)
  for result in results:
    pretraining = result.get("pretraining", {})
    if group not in pretraining or value not in pretraining:
      raise SelectionError(
          f"{result.get('path', 'a result')} does not record the "
          f"pre-training's {group} and {value}: probe it again with this "
          "version of s2l.evaluate.")
    name, candidate = pretraining[group], pretraining[value]
    if candidate in by_group[name]:
      raise SelectionError(f"two {name} runs with {value} = {candidate}: "
                           "keep one per value.")
    by_group[name][candidate] = score(result)
  chosen = {}
  for name, scores in by_group.items():
    ranked = sorted(scores.items())
    chosen[name] = (best(ranked), ranked)
  return chosen


def settled(ranked: Sequence[Tuple[float, float]],
            grid: Sequence[float]) -> bool:
  """Whether the candidates probed so far settle the choice on `grid`.

  Args:
    ranked: [(value, score), ...] probed so far (as `choose` returns them).
    grid: every value the plan sweeps.

  Returns:
    True when every grid value is probed, or when the best probed value's
    neighbours on the grid (one at an end of the grid, two inside it) are
    all probed and score lower. With one peak along the grid, no value left
    to probe can then win.
  """
  scores = dict(ranked)
  grid = sorted(set(grid) | set(scores))
  if all(value in scores for value in grid):
    return True
  if not scores:
    return False
  top = best(list(scores.items()))
  i = grid.index(top)
  neighbours = grid[max(i - 1, 0):i] + grid[i + 1:i + 2]
  return all(n in scores and scores[n] < scores[top] for n in neighbours)


def next_value(ranked: Sequence[Tuple[float, float]],
               grid: Sequence[float]) -> Optional[float]:
  """The grid value to probe next so that the rule settles in few runs.

  Args:
    ranked: [(value, score), ...] probed so far.
    grid: every value the plan sweeps.

  Returns:
    None once `settled`. Otherwise, with nothing probed, the middle of the
    grid (the upper one of two middles); then an unprobed neighbour of the
    best probed value, the smaller first; when both are probed (a neighbour
    ties the best), the unprobed value nearest the best, the smaller of two
    as near. On a grid of four values whose score has one peak, this settles
    in three runs wherever the peak is.
  """
  grid = sorted(set(grid))
  if settled(ranked, grid):
    return None
  scores = dict(ranked)
  if not scores:
    return grid[len(grid) // 2]
  top = best(list(scores.items()))
  grid = sorted(set(grid) | {top})
  i = grid.index(top)
  for neighbour in grid[max(i - 1, 0):i] + grid[i + 1:i + 2]:
    if neighbour not in scores:
      return neighbour
  unprobed = [value for value in grid if value not in scores]
  return min(unprobed, key=lambda value: (abs(grid.index(value) - i), value))
