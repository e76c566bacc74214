"""Tests for s2l/report.py: rendering from fixture JSON."""

import json
import os
import shutil

import numpy as np
import pytest

from s2l import report


def _cell(metric, values):
  return {"metric": metric, "values": values, "mean": float(np.mean(values)),
          "std": float(np.std(values))}


def _run(loss, nx=1, ny=10, family=(0.8, 0.9), pitch=(100.0, 120.0),
         baselines=("pretrained",), regimes=(1000,), partial_ranks=0.5):
  """An s2l.evaluate output; baselines other than pretrained score lower."""
  results = {"instrument_family": {}, "pitch": {}}
  for baseline in baselines:
    shift = 0.0 if baseline == "pretrained" else 0.3
    for task, metric, values, sign in (
        ("instrument_family", "accuracy", family, -1),
        ("pitch", "mse", pitch, 100)):
      results[task][baseline] = {
          str(r): _cell(metric, [v + sign * shift + r / 1e4 for v in values])
          for r in regimes}
  return {"source": "synthetic_notes", "head": "mlp",
          "pretraining": {"source": "synthetic_notes", "loss": loss,
                          "slicing": {"nx": nx, "ny": ny},
                          "train_steps": 2000},
          "upstream": {"partial_ranks": partial_ranks,
                       "exact_permutation": partial_ranks / 2, "step": 2000},
          "results": results}


def _write(folder, name, run):
  os.makedirs(folder, exist_ok=True)
  with open(os.path.join(folder, f"{name}.json"), "w") as f:
    json.dump(run, f)


def _rows(markdown):
  """{first cell: other cells} of a markdown table."""
  rows = {}
  for line in markdown.splitlines():
    if line.startswith("| ") and not line.startswith("|---"):
      cells = [c.strip() for c in line.strip("|").split("|")]
      rows[cells[0]] = cells[1:]
  return rows


def test_methods_table_layout_and_best_cells(tmp_path):
  folder = tmp_path / "table1"
  _write(folder, "pfy", _run("PerturbedFenchelYoungLoss", family=(0.8, 0.9),
                             pitch=(100.0, 120.0),
                             baselines=("pretrained", "random")))
  _write(folder, "mse", _run("RankMSELoss", family=(0.7, 0.7),
                             pitch=(90.0, 90.0), partial_ranks=0.4))
  _write(folder, "fixed", _run("FixedPermutationLoss", family=(0.6, 0.6),
                               pitch=(200.0, 200.0), partial_ranks=0.3))
  written = report.render(str(folder))
  assert written == [str(tmp_path / "table1.md")]
  rows = _rows(open(written[0]).read())
  # The paper's column order; Random Embedding from the run that has it.
  assert rows["Task"] == ["Random Embedding", "Fixed Permutation",
                          "Perturbed F-Y", "MSE"]
  # Accuracy: highest in bold; regime 1000 adds 0.1 to every value. The ±
  # is the sample std (of 0.8 and 0.9: 0.0707).
  assert rows["Instr. Family (ACC)"] == [
      "0.65 ± 0.07", "0.70 ± 0.00", "**0.95 ± 0.07**", "0.80 ± 0.00"]
  # MSE: lowest in bold.
  assert rows["Pitch (MSE)"] == [
      "140.10 ± 14.14", "200.10 ± 0.00", "110.10 ± 14.14",
      "**90.10 ± 0.00**"]
  # Fixed Permutation's upstream task is easier (100 orders): marked, and
  # left out of the comparison even when it scores highest.
  assert rows["Partial Ranks Accuracy"] == ["–", "0.300 †", "**0.500**", "0.400"]
  assert rows["Exact Permutation Accuracy"][2] == "**0.250**"
  assert "† Pre-trained and evaluated on its own fixed set" in open(
      written[0]).read()
  _write(folder, "fixed", _run("FixedPermutationLoss", partial_ranks=0.98))
  rows = _rows(open(report.render(str(folder))[0]).read())
  assert rows["Partial Ranks Accuracy"] == ["–", "0.980 †", "**0.500**", "0.400"]


def test_several_regimes_get_one_row_each_and_supervised_a_column(tmp_path):
  folder = tmp_path / "table4"
  _write(folder, "fsr", _run(
      "SoftRankLoss", baselines=("pretrained", "random", "supervised"),
      regimes=(1000, 3000)))
  rows = _rows(open(report.render(str(folder))[0]).read())
  assert rows["Task"] == ["Random Embedding", "Fast Soft Ranking",
                          "Without pre-training"]
  assert rows["Instr. Family (ACC), 3000 labels"][1] == "**1.15 ± 0.07**"
  assert "Pitch (MSE), 1000 labels" in rows


def test_multilabel_rows_give_both_aucs(tmp_path):
  run = _run("SoftRankLoss")
  cell = _cell("mean_auc", [0.8, 0.9])
  cell["also"] = {"micro_auc": {"values": [0.7, 0.7], "mean": 0.7,
                                "std": 0.0}}
  run["results"] = {"labels": {"pretrained": {"1000": cell}}}
  _write(tmp_path / "table4", "fsr", run)
  markdown = open(report.render(str(tmp_path / "table4"))[0]).read()
  rows = _rows(markdown)
  assert rows["Label (Mean AUC, macro)"] == ["0.85 ± 0.07"]
  assert rows["Label (AUC, micro)"] == ["0.70 ± 0.00"]
  assert "without defining them" in markdown


def test_slicing_table(tmp_path):
  folder = tmp_path / "table2"
  _write(folder, "freq", _run("PerturbedFenchelYoungLoss", 1, 10,
                              family=(0.9, 0.9)))
  _write(folder, "time", _run("PerturbedFenchelYoungLoss", 10, 1,
                              family=(0.5, 0.5)))
  _write(folder, "tf", _run("PerturbedFenchelYoungLoss", 3, 3,
                            family=(0.7, 0.7)))
  rows = _rows(open(report.render(str(folder))[0]).read())
  assert rows["Task"] == ["Frequency (10 patches)", "Time (10 patches)",
                          "Time-Frequency (9 patches)"]
  assert rows["Instr. Family (ACC)"] == ["**1.00 ± 0.00**", "0.60 ± 0.00",
                                         "0.80 ± 0.00"]


def test_the_layout_comes_from_the_experiment_not_the_folder_name(tmp_path):
  folder = tmp_path / "my_slicings"
  _write(folder, "freq", _run("PerturbedFenchelYoungLoss", 1, 10))
  _write(folder, "time", _run("PerturbedFenchelYoungLoss", 10, 1))
  (folder / report.LAYOUT_FILE).write_text(json.dumps(
      {"name": "my_slicings", "title": "Slicings", "layout": "slicing",
       "probes": ["freq.json", "time.json"]}))
  (markdown,) = report.render(str(folder))
  text = open(markdown).read()
  assert text.startswith("# Slicings\n")
  assert _rows(text)["Task"] == ["Frequency (10 patches)",
                                 "Time (10 patches)"]
  # Without the file, a folder name that says nothing is a methods table.
  (folder / report.LAYOUT_FILE).unlink()
  assert report.layout(str(folder))["layout"] == "methods"
  assert report.layout(str(tmp_path / "figure4_x"))["layout"] == "bands"


def _png_size(path):
  with open(path, "rb") as f:
    header = f.read(24)
  assert header[:8] == b"\x89PNG\r\n\x1a\n"
  return int.from_bytes(header[16:20], "big"), int.from_bytes(
      header[20:24], "big")


def test_figures_are_written_with_their_numbers(tmp_path):
  _write(tmp_path / "figure3", "pfy", _run(
      "PerturbedFenchelYoungLoss", baselines=("pretrained", "random",
                                              "supervised"),
      regimes=(200, 1000, 5000)))
  _write(tmp_path / "figure3", "mse", _run("RankMSELoss",
                                           regimes=(200, 1000, 5000)))
  for bands in (2, 4, 10):
    _write(tmp_path / "figure4", f"freq{bands}", _run(
        "PerturbedFenchelYoungLoss", 1, bands, partial_ranks=1 / bands))
  written = report.render_all(str(tmp_path))
  assert sorted(os.path.basename(p) for p in written) == [
      "figure3.md", "figure3.png", "figure4.md", "figure4.png"]
  width, height = _png_size(tmp_path / "figure3.png")
  assert width > 2 * height  # One panel per task, side by side.
  _png_size(tmp_path / "figure4.png")
  figure3 = (tmp_path / "figure3.md").read_text()
  assert "![Figure 3](figure3.png)" in figure3
  assert "Instr. Family (ACC), 200 labels" in _rows(figure3)
  rows = _rows((tmp_path / "figure4.md").read_text())
  assert [r for r in rows if r.isdigit()] == ["2", "4", "10"]
  assert rows["4"][-1] == "0.250"


def test_errors_say_what_to_do(tmp_path):
  with pytest.raises(report.ReportError, match="not a directory"):
    report.render_all(str(tmp_path / "missing"))
  with pytest.raises(report.ReportError, match="run an experiment script"):
    report.render_all(str(tmp_path))
  (tmp_path / "table1").mkdir()
  with pytest.raises(report.ReportError, match="holds no .json"):
    report.render(str(tmp_path / "table1"))
  (tmp_path / "table1" / "broken.json").write_text("{\"results\": ")
  with pytest.raises(report.ReportError, match="broken.json is not valid"):
    report.render(str(tmp_path / "table1"))
  (tmp_path / "table1" / "broken.json").write_text("{\"results\": {}}")
  with pytest.raises(report.ReportError, match="lacks \\['pretraining'\\]"):
    report.render(str(tmp_path / "table1"))
  os.remove(tmp_path / "table1" / "broken.json")
  _write(tmp_path / "table1", "a", _run("RankMSELoss"))
  _write(tmp_path / "table1", "b", _run("RankMSELoss"))
  with pytest.raises(report.ReportError,
                     match="same setting with pre-training seeds"):
    report.render(str(tmp_path / "table1"))


def test_collapse_diagnostics_get_rows_without_bold(tmp_path):
  folder = tmp_path / "table1"
  pfy = _run("PerturbedFenchelYoungLoss", baselines=("pretrained", "random"))
  pfy["representation"] = {
      "pretrained": {"dead_fraction": 0.345, "effective_dimension": 1.56},
      "random": {"dead_fraction": 0.1, "effective_dimension": 12.24}}
  _write(folder, "pfy", pfy)
  # A run probed before s2l recorded the diagnostics.
  _write(folder, "mse", _run("RankMSELoss"))
  rows = _rows(open(report.render(str(folder))[0]).read())
  assert rows["Task"] == ["Random Embedding", "Perturbed F-Y", "MSE"]
  assert rows["Embedding: dead units"] == ["10%", "34%", "–"]
  assert rows["Embedding: effective dimension"] == ["12.2", "1.6", "–"]
  # Without any diagnostics, no such rows.
  _write(folder, "pfy", _run("PerturbedFenchelYoungLoss"))
  assert "Embedding: dead units" not in _rows(
      open(report.render(str(folder))[0]).read())


def _seeded(run, seed):
  run["pretraining"]["seed"] = seed
  return run


def test_pre_training_seeds_pool_into_one_column(tmp_path):
  folder = tmp_path / "table1"
  _write(folder, "pfy_seed0", _seeded(_run(
      "PerturbedFenchelYoungLoss", family=(0.8, 0.9),
      baselines=("pretrained", "random"), partial_ranks=0.4), 0))
  _write(folder, "pfy_seed1", _seeded(_run(
      "PerturbedFenchelYoungLoss", family=(0.6, 0.7),
      baselines=("pretrained", "random"), partial_ranks=0.6), 1))
  markdown = open(report.render(str(folder))[0]).read()
  rows = _rows(markdown)
  # Four values per column (2 pre-training × 2 probe seeds), 1000 labels add
  # 0.1: 0.9, 1.0, 0.7, 0.8 -> mean 0.85, sample std 0.129.
  values = [0.9, 1.0, 0.7, 0.8]
  assert rows["Instr. Family (ACC)"][1] == (
      f"**{np.mean(values):.2f} ± {np.std(values, ddof=1):.2f}**")
  assert rows["Instr. Family (ACC)"][1] == "**0.85 ± 0.13**"
  assert rows["Partial Ranks Accuracy"][1] == "0.500"
  assert "seed 0, 1" in markdown or "seed [0, 1]" in markdown
  assert rows["Pre-training seeds"] == ["0, 1", "0, 1"]


def test_each_column_states_its_own_learning_rate(tmp_path):
  folder = tmp_path / "table1"
  for name, loss, lr in (("pfy", "PerturbedFenchelYoungLoss", 3e-5),
                         ("mse", "RankMSELoss", 1e-5)):
    run = _seeded(_run(loss, baselines=("pretrained", "random")), 0)
    run["pretraining"]["learning_rate"] = lr
    _write(folder, name, run)
  rows = _rows(open(report.render(str(folder))[0]).read())
  # Random (the initial weights), Perturbed F-Y, MSE.
  assert rows["Adam learning rate"] == ["–", "3e-5", "1e-5"]
  assert rows["Pre-training seeds"] == ["0", "0", "0"]


def test_the_steps_curve_pools_seeds_per_step_with_the_gain(tmp_path):
  folder = tmp_path / "gain_vs_steps"
  for seed in (0, 1):
    for step, family in ((1000, (0.6, 0.6)), (5000, (0.8, 0.8))):
      run = _seeded(_run("PerturbedFenchelYoungLoss", family=family,
                         baselines=("pretrained", "random")), seed)
      run["encoder_step"] = step
      _write(folder, f"seed{seed}_at{step}", run)
  with open(folder / "experiment.json", "w") as f:
    json.dump({"name": "gain_vs_steps", "title": "Gain against steps",
               "layout": "steps"}, f)
  markdown, png = report.render(str(folder))
  assert _png_size(png)[0] > 100
  rows = _rows(open(markdown).read())
  # Per step: family (1000 labels add 0.1), its random (0.3 lower), gain.
  assert rows["1000"][:3] == ["0.70 ± 0.00", "0.40 ± 0.00", "+75.0%"]
  assert rows["5000"][:3] == ["0.90 ± 0.00", "0.60 ± 0.00", "+50.0%"]


def test_slicings_and_bands_show_their_own_random_encoder_and_gain(tmp_path):
  folder = tmp_path / "table2"
  _write(folder, "freq", _run("PerturbedFenchelYoungLoss", nx=1, ny=10,
                              baselines=("pretrained", "random")))
  _write(folder, "time", _run("PerturbedFenchelYoungLoss", nx=10, ny=1))
  markdown = open(report.render(str(folder))[0]).read()
  rows = _rows(markdown)
  # family 0.9 ± .07 pre-trained, 0.6 random (shift 0.3): +50%; pitch 110.1
  # against 140.1: +21.4%. Time has no random encoder of its own.
  assert rows["Instr. Family (ACC): own random encoder"] == ["0.65 ± 0.07",
                                                              "–"]
  assert rows["Instr. Family (ACC): gain over it"] == ["+46.2%", "–"]
  assert rows["Pitch (MSE): gain over it"] == ["+21.4%", "–"]
  assert "1 of the 2 columns have no random encoder" in markdown
  bands = tmp_path / "figure4"
  for ny in (2, 10):
    _write(bands, f"freq{ny}", _run("PerturbedFenchelYoungLoss", ny=ny,
                                    baselines=("pretrained", "random")))
  markdown = open(report.render(str(bands))[0]).read()
  rows = _rows(markdown)
  header = rows["Frequency bands"]
  assert header[:3] == ["Instr. Family (ACC)", "Instr. Family (ACC): own "
                        "random", "Instr. Family (ACC): gain"]
  assert rows["2"][:3] == ["0.95 ± 0.07", "0.65 ± 0.07", "+46.2%"]
  assert "no random encoder" not in markdown


def _fail_renames(monkeypatch):
  def fail(src, dst):
    raise OSError(f"preempted before renaming {src} to {dst}")
  monkeypatch.setattr(os, "replace", fail)


def test_markdown_and_figures_are_written_whole_or_not_at_all(tmp_path,
                                                              monkeypatch):
  _write(tmp_path / "table1", "pfy", _run("PerturbedFenchelYoungLoss"))
  for bands in (2, 4):
    _write(tmp_path / "figure4", f"freq{bands}", _run(
        "PerturbedFenchelYoungLoss", 1, bands, partial_ranks=1 / bands))
  written = report.render_all(str(tmp_path))
  before = {p: open(p, "rb").read() for p in written}
  assert sorted(os.path.basename(p) for p in before) == [
      "figure4.md", "figure4.png", "table1.md"]
  # Written to temporary files, then renamed: a failed rename leaves each
  # previous file as it was, and no temporary file.
  _fail_renames(monkeypatch)
  _write(tmp_path / "table1", "mse", _run("RankMSELoss"))
  with pytest.raises(OSError, match="preempted.*table1.md"):
    report.render(str(tmp_path / "table1"))
  with pytest.raises(OSError, match="preempted.*figure4.png"):
    report.render(str(tmp_path / "figure4"))
  assert {p: open(p, "rb").read() for p in written} == before
  assert sorted(os.listdir(tmp_path)) == [
      "figure4", "figure4.md", "figure4.png", "table1", "table1.md"]


def test_a_killed_writers_temporary_file_is_not_a_result(tmp_path):
  folder = tmp_path / "table1"
  _write(folder, "pfy", _run("PerturbedFenchelYoungLoss"))
  # What a probe killed between its write and its rename leaves (s2l.atomic):
  # even a name ending in .json is skipped.
  (folder / ".mse.json.tmp-123-abcd1234").write_text("{\"results\": ")
  (folder / ".mse.tmp-123-abcd1234.json").write_text("{\"results\": ")
  assert [os.path.basename(r["path"])
          for r in report.load_results(str(folder))] == ["pfy.json"]


def test_labels_and_columns_come_from_the_probe(tmp_path):
  """A probe written since s2l.evaluate records the loss's label, paper
  column and permutation set: a loss the report has never heard of gets its
  own label, after the paper's columns, without the report importing it."""
  folder = tmp_path / "table1"
  toy = _run("ToyLoss", family=(0.9, 0.9), baselines=("pretrained", "random"))
  toy["pretraining"].update(loss_label="Toy", loss_column=None,
                            permutation_set=None)
  fixed = _run("FixedPermutationLoss", family=(0.6, 0.6))
  fixed["pretraining"].update(loss_label="Fixed (L=24)", loss_column=0,
                              permutation_set=24)
  _write(folder, "toy", toy)
  _write(folder, "fixed", fixed)
  _write(folder, "mse", _run("RankMSELoss"))  # Written before labels were.
  rows = _rows(open(report.render(str(folder))[0]).read())
  assert rows["Task"] == ["Random Embedding", "Fixed (L=24)", "MSE", "Toy"]
  assert rows["Partial Ranks Accuracy"][1].endswith("†")
  assert not rows["Partial Ranks Accuracy"][3].endswith("†")


def _ablation(family, dead, partial_ranks=0.5):
  run = _run("PerturbedFenchelYoungLoss", family=(family, family + 0.02),
             baselines=("pretrained", "random"), partial_ranks=partial_ranks)
  run["representation"] = {
      "pretrained": {"dead_fraction": dead, "effective_dimension": 2.5},
      "random": {"dead_fraction": 0.1, "effective_dimension": 9.0}}
  return run


def test_ablations_are_laid_out_in_the_plans_order_with_their_changes(
    tmp_path):
  folder = tmp_path / "ablations"
  _write(folder, "lr1e-4", _ablation(0.6, 0.19))
  _write(folder, "default", _ablation(0.4, 0.36))
  (folder / "experiment.json").write_text(json.dumps({
      "name": "ablations", "title": "Ablations", "layout": "ablations",
      "probes": ["default.json", "lr1e-4.json", "seed1.json"],
      "descriptions": {"default.json": "Adam 1e-3",
                       "lr1e-4.json": "learning rate 1e-4"}}))
  text = open(report.render(str(folder))[0]).read()
  rows = _rows(text)
  names = [k for k in rows if k.startswith("`")]
  assert names == ["`default`: Adam 1e-3", "`lr1e-4`: learning rate 1e-4"]
  # Pre-trained / initial weights, sample std over the probe seeds (of 0.4
  # and 0.42: 0.014), 3 decimals; MSE 1; the collapse diagnostics.
  default = rows["`default`: Adam 1e-3"]
  assert default[0] == "0.510 ± 0.014 / 0.210 ± 0.014"
  assert default[-3:] == ["0.500", "36% / 10%", "2.5 / 9.0"]
  assert "Not probed yet: seed1." in text


def test_methods_table_margin_over_random_in_stds(tmp_path):
  folder = tmp_path / "table1"
  # Random scores 0.3 lower on family (0.5, 0.6 -> std 0.0707) and 30 higher
  # on pitch MSE (130, 150 -> std 14.14).
  _write(folder, "pfy", _run("PerturbedFenchelYoungLoss", family=(0.8, 0.9),
                             pitch=(100.0, 120.0),
                             baselines=("pretrained", "random")))
  # Equal means to random's on family, a wider spread on pitch.
  _write(folder, "mse", _run("RankMSELoss", family=(0.4, 0.7),
                             pitch=(80.0, 200.0)))
  markdown = open(report.render(str(folder))[0]).read()
  rows = _rows(markdown)
  assert rows["Task"] == ["Random Embedding", "Perturbed F-Y", "MSE"]
  # (0.95 - 0.65) / 0.0707 = 4.24; MSE: (0.65 - 0.65) / 0.212.
  assert rows["Instr. Family (ACC): margin over random (std)"] == [
      "–", "+4.2", "+0.0"]
  # Pitch: lower is better, (140.1 - 110.1) / 14.14 = 2.12; MSE's mean
  # 140.1 ties random's.
  assert rows["Pitch (MSE): margin over random (std)"] == ["–", "+2.1", "+0.0"]
  assert "Margin over random" in markdown
  assert report.margin((0.5, 0.1), (0.7, 0.05), "accuracy") == pytest.approx(-2.0)
  assert report.margin((10.0, 1.0), (14.0, 2.0), "mse") == pytest.approx(2.0)
  assert report.margin((0.5, None), (0.4, 0.1), "accuracy") is None


def test_each_column_is_measured_against_the_random_encoder_of_its_seeds(
    tmp_path):
  folder = tmp_path / "table1"
  # Seed 0's initial weights score family 0.5 (+0.1 at 1000 labels), seed
  # 1's 0.3; Perturbed F-Y probed them at both seeds, Fast Soft Ranking at
  # seed 1 only, MSE at neither, and MSE ran seed 0 alone.
  def seeded(loss, seed, family, random=None, baselines=("pretrained",)):
    run = _seeded(_run(loss, family=family, baselines=baselines), seed)
    if random is not None:
      run["results"]["instrument_family"]["random"]["1000"] = _cell(
          "accuracy", [random + 0.1, random + 0.1 + 0.02])
    return run
  both = ("pretrained", "random")
  _write(folder, "pfy0", seeded("PerturbedFenchelYoungLoss", 0, (0.8, 0.82),
                                0.5, both))
  _write(folder, "pfy1", seeded("PerturbedFenchelYoungLoss", 1, (0.8, 0.82),
                                0.3, both))
  _write(folder, "fsr0", seeded("SoftRankLoss", 0, (0.6, 0.62)))
  _write(folder, "fsr1", seeded("SoftRankLoss", 1, (0.6, 0.62), 0.3, both))
  _write(folder, "mse0", seeded("RankMSELoss", 0, (0.6, 0.62)))
  markdown = open(report.render(str(folder))[0]).read()
  rows = _rows(markdown)
  assert rows["Task"] == ["Random Embedding", "Fast Soft Ranking",
                          "Perturbed F-Y", "MSE"]
  # The Random column: both seeds, each probed once (0.6, 0.62, 0.4, 0.42).
  assert rows["Pre-training seeds"] == ["0, 1", "0, 1", "0, 1", "0"]
  assert rows["Instr. Family (ACC)"][0] == "0.51 ± 0.12"
  margins = rows["Instr. Family (ACC): margin over random (std)"]
  # Fast Soft Ranking (0.7, 0.72 twice; std 0.0115) and Perturbed F-Y
  # against both seeds' random (std 0.1155); MSE, seed 0 alone, against
  # seed 0's (0.6, 0.62; std 0.0141): (0.71 - 0.61) / 0.0141 = 7.1, where
  # both seeds' random would have given 1.7.
  assert margins[1] == f"{(0.71 - 0.51) / np.std([.6, .62, .4, .42], ddof=1):+.1f}"
  assert margins[3] == f"{(0.71 - 0.61) / np.std([.6, .62], ddof=1):+.1f}"
  assert margins[3] == "+7.1"
  # report.margins gives the same numbers, with the gap positive where
  # pre-training is better: MSE's pitch (100, 120) against seed 0's random
  # (130, 150) is 30 ahead.
  numbers = report.margins(report.load_results(str(folder)))
  mse = numbers["MSE"]
  assert mse["instrument_family"][1000]["margin"] == pytest.approx(
      (0.71 - 0.61) / np.std([.6, .62], ddof=1))
  assert mse["instrument_family"][1000]["random"][0] == pytest.approx(0.61)
  assert mse["instrument_family"][1000]["seeds"] == [0]
  assert mse["pitch"][1000]["gap"] == pytest.approx(30.0)
  assert mse["pitch"][1000]["metric"] == "mse"
  assert numbers["Fast Soft Ranking"]["instrument_family"][1000][
      "gap"] == pytest.approx(0.71 - 0.51)
  # A column some of whose seeds' initial weights were never probed has
  # no margin.
  os.remove(folder / "pfy0.json")
  rows = _rows(open(report.render(str(folder))[0]).read())
  assert rows["Pre-training seeds"][0] == "1"
  assert rows["Instr. Family (ACC): margin over random (std)"][3] == "–"
  assert "MSE" not in report.margins(report.load_results(str(folder)))


def test_methods_table_without_random_has_no_margin(tmp_path):
  folder = tmp_path / "table1"
  _write(folder, "mse", _run("RankMSELoss"))
  markdown = open(report.render(str(folder))[0]).read()
  assert "margin over random" not in markdown
  assert "Margin over random" not in markdown


def test_the_frames_curve_has_a_row_per_frame_count_with_its_gain(tmp_path):
  folder = tmp_path / "frames_video"
  for frames, family in ((5, (0.6, 0.6)), (20, (0.8, 0.8))):
    run = _run("PerturbedFenchelYoungLoss", family=family,
               baselines=("pretrained", "random"))
    run["pretraining"]["slicing"] = None
    run["pretraining"]["frames"] = frames
    _write(folder, f"frames{frames}", run)
  with open(folder / "experiment.json", "w") as f:
    json.dump({"name": "frames_video", "title": "Frames",
               "layout": "frames"}, f)
  markdown, png = report.render(str(folder))
  assert _png_size(png)[0] > 100
  rows = _rows(open(markdown).read())
  assert rows["Frames per clip"][:3] == [
      "Instr. Family (ACC)", "Instr. Family (ACC): own random",
      "Instr. Family (ACC): gain"]
  # Family 0.6 + 0.1 (1000 labels) against its random 0.3 lower.
  assert rows["5"][:3] == ["0.70 ± 0.00", "0.40 ± 0.00", "+75.0%"]
  assert rows["20"][:3] == ["0.90 ± 0.00", "0.60 ± 0.00", "+50.0%"]
  # A probe written before the frames were recorded is named.
  del run["pretraining"]["frames"]
  _write(folder, "frames20", run)
  with pytest.raises(report.ReportError, match="no frames per clip"):
    report.render(str(folder))


def test_the_width_curve_has_a_row_per_width_with_its_gain(tmp_path):
  folder = tmp_path / "gain_vs_width"
  for width, family in ((0.25, (0.6, 0.6)), (1.0, (0.8, 0.8))):
    run = _run("PerturbedFenchelYoungLoss", family=family,
               baselines=("pretrained", "random"))
    run["pretraining"]["width"] = width
    _write(folder, f"width{width}", run)
  with open(folder / "experiment.json", "w") as f:
    json.dump({"name": "gain_vs_width", "title": "Width",
               "layout": "width"}, f)
  markdown, png = report.render(str(folder))
  assert _png_size(png)[0] > 100
  rows = _rows(open(markdown).read())
  assert rows["Network width"][:3] == [
      "Instr. Family (ACC)", "Instr. Family (ACC): own random",
      "Instr. Family (ACC): gain"]
  assert rows["0.25"][:3] == ["0.70 ± 0.00", "0.40 ± 0.00", "+75.0%"]
  assert rows["1.0"][:3] == ["0.90 ± 0.00", "0.60 ± 0.00", "+50.0%"]
  del run["pretraining"]["width"]
  _write(folder, "width1.0", run)
  with pytest.raises(report.ReportError, match="no network width"):
    report.render(str(folder))


def test_the_caption_names_the_probed_layer(tmp_path):
  # A JSON from before `evaluate.layer` read the embedding.
  _write(tmp_path / "embedding", "pfy", _run("PerturbedFenchelYoungLoss"))
  text = open(report.render(str(tmp_path / "embedding"))[0]).read()
  assert "mlp head on the frozen embedding, " in text
  _write(tmp_path / "fc6", "pfy", {**_run("PerturbedFenchelYoungLoss"),
                                   "layer": "patch_features"})
  text = open(report.render(str(tmp_path / "fc6"))[0]).read()
  assert ("mlp head on the frozen patch features (fc6, concatenated), "
          in text)
  # The diagnostics rows say which layer they measured.
  for folder, layer in (("embedding", None), ("fc6", "patch_features")):
    run = _run("PerturbedFenchelYoungLoss")
    run["representation"] = {"pretrained": {"dead_fraction": 0.25,
                                             "effective_dimension": 3.0}}
    if layer:
      run["layer"] = layer
    _write(tmp_path / folder, "pfy", run)
  rows = _rows(open(report.render(str(tmp_path / "embedding"))[0]).read())
  assert rows["Embedding: dead units"] == ["25%"]
  rows = _rows(open(report.render(str(tmp_path / "fc6"))[0]).read())
  assert rows["Patch features (fc6): dead units"] == ["25%"]
  assert rows["Patch features (fc6): effective dimension"] == ["3.0"]
  # So does the random encoder's column, the paper's name at the embedding.
  for folder, layer, title in (
      ("embedding", None, "Random Embedding"),
      ("fc6", "patch_features", "Random Patch Features (fc6)")):
    run = _run("PerturbedFenchelYoungLoss", baselines=("pretrained", "random"))
    run["pretraining"]["seed"] = 0
    if layer:
      run["layer"] = layer
    _write(tmp_path / folder, "pfy", run)
    rows = _rows(open(report.render(str(tmp_path / folder))[0]).read())
    assert rows["Task"] == [title, "Perturbed F-Y"]


def test_setting_line_names_data_rates_seeds_head_and_split():
  def run(seed, rate):
    return {"source": "soundfont_notes", "head": "mlp", "test_split": "test",
            "pretraining": {"learning_rate": rate, "train_steps": 10000,
                            "seed": seed}}
  line = report.setting_line([run(2, 3e-5), run(10, 1e-4), run(0, 3e-5)])
  assert line == ("soundfont_notes; Adam 3e-05, 0.0001, 10000 steps, "
                  "pre-training seed 0, 2, 10; mlp probe, scored on test")
  # A JSON from before seeds were recorded says so rather than guessing.
  old = run(0, 3e-5)
  del old["pretraining"]["seed"]
  assert "pre-training seed ?;" in report.setting_line([old])


def test_one_folder_that_cannot_be_laid_out_does_not_stop_the_others(
    tmp_path, caplog):
  _write(tmp_path / "table1", "pfy", _run("PerturbedFenchelYoungLoss"))
  # A hand-made folder holding one loss's seed-0 run twice (two rates, say):
  # it cannot be pooled into one column.
  _write(tmp_path / "two_rates", "pfy_a", _run("PerturbedFenchelYoungLoss"))
  _write(tmp_path / "two_rates", "pfy_b", _run("PerturbedFenchelYoungLoss"))
  with pytest.raises(report.ReportError, match="pre-training seeds"):
    report.render(str(tmp_path / "two_rates"))
  written = report.render_all(str(tmp_path))
  assert [os.path.basename(p) for p in written] == ["table1.md"]
  assert not (tmp_path / "two_rates.md").exists()
  assert "skipped two_rates" in caplog.text
  # With nothing that can be laid out, the report says so.
  shutil.rmtree(tmp_path / "table1")
  os.remove(tmp_path / "table1.md")
  with pytest.raises(report.ReportError,
                     match=r"(?s)no folder.*\ntwo_rates: "):
    report.render_all(str(tmp_path))


def test_the_caption_says_where_heads_were_chosen_on_validation(tmp_path):
  _write(tmp_path / "last", "pfy", {**_run("PerturbedFenchelYoungLoss"),
                                    "head_epoch": "last"})
  text = open(report.render(str(tmp_path / "last"))[0]).read()
  assert "head kept" not in text  # the paper's protocol, as every older JSON
  _write(tmp_path / "chosen", "pfy", {**_run("PerturbedFenchelYoungLoss"),
                                      "head_epoch": "validation"})
  text = open(report.render(str(tmp_path / "chosen"))[0]).read()
  assert ("mlp head on the frozen embedding, head kept at the epoch of its "
          "best validation score, labelled examples" in text)
