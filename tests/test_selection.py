"""Tests for s2l/selection.py: the rule that picks each loss's learning rate
from validation probes, and its table in s2l.report."""

import json

import pytest

from s2l import report
from s2l import selection


def _result(loss, lr, family, pitch, split="validation"):
  """A probe JSON: (pretrained, random) means for family accuracy and pitch
  MSE at 1000 labels."""
  def cell(metric, mean):
    return {"1000": {"metric": metric, "values": [mean], "mean": mean,
                     "std": 0.0}}
  return {"test_split": split, "source": "soundfont_notes", "head": "mlp",
          "pretraining": {"loss": loss, "learning_rate": lr,
                          "train_steps": 10000, "seed": 0,
                          "slicing": {"nx": 1, "ny": 10}},
          "upstream": {"partial_ranks": 0.4},
          "results": {
              "instrument_family": {"pretrained": cell("accuracy", family[0]),
                                    "random": cell("accuracy", family[1])},
              "pitch": {"pretrained": cell("mse", pitch[0]),
                        "random": cell("mse", pitch[1])}}}


def test_relative_gain_is_positive_when_better_for_both_kinds_of_metric():
  assert selection.relative_gain(0.6, 0.5, "accuracy") == pytest.approx(0.2)
  assert selection.relative_gain(40.0, 50.0, "mse") == pytest.approx(0.2)
  assert selection.relative_gain(60.0, 50.0, "mse") == pytest.approx(-0.2)
  with pytest.raises(selection.SelectionError, match="of 0"):
    selection.relative_gain(1.0, 0.0, "mse")


def test_the_rule_averages_task_gains_and_picks_per_loss():
  runs = [
      # Family +10%, pitch +20% -> 0.15.
      _result("RankMSELoss", 1e-5, (0.55, 0.5), (40.0, 50.0)),
      # Family +20%, pitch -10% -> 0.05: the best family does not win alone.
      _result("RankMSELoss", 3e-5, (0.6, 0.5), (55.0, 50.0)),
      _result("SoftRankLoss", 1e-5, (0.5, 0.5), (50.0, 50.0)),
      _result("SoftRankLoss", 3e-6, (0.5, 0.5), (50.0, 50.0)),
  ]
  assert selection.score(runs[0]) == pytest.approx(0.15)
  chosen = selection.choose(runs)
  assert chosen["RankMSELoss"][0] == 1e-5
  assert [lr for lr, _ in chosen["RankMSELoss"][1]] == [1e-5, 3e-5]
  # An exact tie goes to the smaller rate.
  assert chosen["SoftRankLoss"][0] == 3e-6


def test_a_sweep_settles_once_the_best_rates_grid_neighbours_score_lower():
  grid = (3e-6, 1e-5, 3e-5, 1e-4)
  # An interior peak with both neighbours probed and lower: settled.
  assert selection.settled([(1e-5, 0.0), (3e-5, 0.2), (1e-4, 0.1)], grid)
  # The same peak with a neighbour not probed yet: not settled.
  assert not selection.settled([(1e-5, 0.0), (3e-5, 0.2)], grid)
  # A neighbour that ties the best does not settle it (two peaks possible).
  assert not selection.settled([(1e-5, 0.2), (3e-5, 0.2), (1e-4, 0.1)], grid)
  # A peak at the end of the grid needs its one neighbour only.
  assert selection.settled([(3e-6, -0.1), (1e-5, -0.2)], grid)
  assert not selection.settled([(1e-5, -0.2), (3e-5, -0.3)], grid)
  # Every rate probed settles it, whatever the shape.
  assert selection.settled([(3e-6, 0.1), (1e-5, 0.0), (3e-5, 0.2),
                            (1e-4, 0.1)], grid)


def test_selection_refuses_test_scores_and_ambiguous_candidates():
  with pytest.raises(selection.SelectionError, match="validation probes only"):
    selection.score(_result("RankMSELoss", 1e-5, (0.5, 0.4), (1.0, 2.0),
                            split="test"))
  twice = [_result("RankMSELoss", 1e-5, (0.5, 0.4), (1.0, 2.0))] * 2
  with pytest.raises(selection.SelectionError, match="keep one per value"):
    selection.choose(twice)
  old = _result("RankMSELoss", 1e-5, (0.5, 0.4), (1.0, 2.0))
  del old["pretraining"]["learning_rate"]
  with pytest.raises(selection.SelectionError, match="probe it again"):
    selection.choose([old])
  no_random = _result("RankMSELoss", 1e-5, (0.5, 0.4), (1.0, 2.0))
  del no_random["results"]["pitch"]["random"]
  with pytest.raises(selection.SelectionError, match="'random' baselines"):
    selection.score(no_random)


def test_the_report_lays_a_sweep_out_with_the_choice_in_bold(tmp_path):
  folder = tmp_path / "lr_sweep"
  folder.mkdir()
  for name, run in [
      ("freq10_mse_lr1e-5", _result("RankMSELoss", 1e-5, (0.55, 0.5),
                                    (40.0, 50.0))),
      ("freq10_mse_lr3e-5", _result("RankMSELoss", 3e-5, (0.6, 0.5),
                                    (55.0, 50.0))),
      ("freq10_fixed_lr3e-5", _result("FixedPermutationLoss", 3e-5,
                                      (0.4, 0.5), (60.0, 50.0))),
      ("freq10_fsr_lr1e-5", _result("SoftRankLoss", 1e-5, (0.55, 0.5),
                                    (50.0, 50.0))),
      ("freq10_fsr_lr3e-5", _result("SoftRankLoss", 3e-5, (0.5, 0.5),
                                    (55.0, 50.0)))]:
    run["path"] = f"{name}.json"
    (folder / f"{name}.json").write_text(json.dumps(run))
  (folder / "experiment.json").write_text(json.dumps(
      {"name": "lr_sweep", "title": "Learning rate per pretext loss",
       "layout": "sweep", "probes": [
           "freq10_mse_lr3e-6.json",
           "freq10_mse_lr1e-5.json", "freq10_mse_lr3e-5.json",
           "freq10_fixed_lr1e-5.json", "freq10_fixed_lr3e-5.json",
           "freq10_fsr_lr1e-5.json", "freq10_fsr_lr3e-5.json",
           "freq10_fsr_lr1e-4.json", "freq10_pfy_lr1e-5.json"]}))
  (markdown,) = report.render(str(folder))
  text = open(markdown).read()
  # MSE peaks at 1e-5 with 3e-5 lower; 3e-6 is left, so 1e-5 is not settled.
  assert "| MSE | +15.0% | +5.0% | pending (2 of 3 rates probed) |" in text
  # A loss with rates still to probe gets no choice yet.
  assert ("| Fixed Permutation | – | -20.0% | pending (1 of 2 rates probed) |"
          in text)
  # FSR peaks at the low end of its grid, its one neighbour lower: settled
  # without its 1e-4 run.
  assert ("| Fast Soft Ranking | **+5.0%** | -5.0% | 1e-5 (settled by 2 of 3 "
          "rates) |" in text)
  assert "Not probed yet: freq10_pfy (1 rates)." in text
  assert "| MSE | 1e-5 | 0.550 / 0.500 |" in text
  assert "0.400 †" in text and selection.RULE in text


def _walk(grid, score):
  """The values `next_value` probes, in order, when value v scores score(v)."""
  probed = []
  while True:
    value = selection.next_value([(v, score(v)) for v in probed], grid)
    if value is None:
      return probed
    assert value in grid and value not in probed
    probed.append(value)


def test_the_next_rate_to_probe_settles_a_single_peak_in_three_runs_of_four():
  grid = (1e-5, 3e-5, 1e-4, 3e-4)
  for peak in grid:
    # One peak along the grid, at `peak`.
    walk = _walk(grid, lambda v, peak=peak: -abs(grid.index(v) -
                                                 grid.index(peak)))
    assert len(walk) == 3 and peak in walk
    assert walk[0] == 1e-4  # The middle of the grid (the upper of two).
    ranked = [(v, -abs(grid.index(v) - grid.index(peak))) for v in walk]
    assert selection.settled(ranked, grid)
    assert max(ranked, key=lambda item: item[1])[0] == peak
  # Falling towards small rates: the smaller neighbour first, then the
  # larger; peak at 3e-4.
  assert _walk(grid, grid.index) == [1e-4, 3e-5, 3e-4]
  # A neighbour that ties the best leaves it unsettled: the tie goes to the
  # smaller rate, whose other neighbour comes next; with both neighbours
  # probed, the nearest unprobed value, until the grid is probed whole.
  flat = {1e-5: 0.0, 3e-5: 0.1, 1e-4: 0.1, 3e-4: 0.1}
  assert _walk(grid, flat.get) == [1e-4, 3e-5, 1e-5, 3e-4]
  # Already settled: nothing more to run.
  assert selection.next_value([(3e-5, 0.0), (1e-4, 0.2), (3e-4, 0.1)],
                              grid) is None
