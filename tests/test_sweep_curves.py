"""Tests for experiments/sweep_curves.py on two tiny pre-training runs."""

import json
import os
import shutil

import gin
import pytest

from s2l import run_record
from s2l import training

import experiment_scripts
import tiny_run

sweep_curves = experiment_scripts.load("sweep_curves")


@pytest.fixture(name="runs", scope="module")
def _runs(tmp_path_factory):
  """A folder with a tiny Perturbed F-Y run at `pfy/` and a tiny Fixed
  Permutation run with random labels at `control/fp`."""
  root = tmp_path_factory.mktemp("runs")
  data_dir = tmp_path_factory.mktemp("tfds")
  for name, extra in (("pfy", ()), (os.path.join("control", "fp"), (
      "train.loss = @FixedPermutationLoss()",
      "FixedPermutationLoss.num_permutations = 10",
      "FixedPermutationLoss.random_labels = True"))):
    gin.clear_config()
    tiny_run.parse_tiny_run(data_dir, *extra)
    training.train(str(root / name))
  gin.clear_config()
  return str(root)


def test_runs_of_several_patterns_are_gathered_and_told_apart(runs):
  records = sweep_curves.gather(runs, ["pfy", "control/*"])
  assert sorted(os.path.relpath(r, runs) for r in records) == [
      os.path.join("control", "fp"), "pfy"]
  control = records[os.path.join(runs, "control", "fp")]
  # The control's record keeps its labels' setting, and its legend says so.
  assert control["loss"]["args"]["random_labels"] is True
  rate = f"{control['learning_rate']:g}"
  label, colour = sweep_curves.describe(control)
  assert label == f"FixedPermutation, Adam {rate}, random labels"
  assert colour == sweep_curves.RANDOM_LABELS_COLOUR
  assert sweep_curves.describe(records[os.path.join(runs, "pfy")]) == (
      f"PerturbedFenchelYoung, Adam {rate}",
      sweep_curves.COLOURS["PerturbedFenchelYoungLoss"])
  with pytest.raises(ValueError, match="no run matches"):
    sweep_curves.gather(runs, ["nothing*"])
  with pytest.raises(SystemExit, match="no run matches"):
    sweep_curves.main([f"--runs={runs}", "--pattern=nothing*"])
  assert sweep_curves.parse_args([]).pattern == ["freq10_*_lr*"]



def test_unfinished_runs_are_left_out_unless_asked_for(runs, tmp_path):
  stopped = tmp_path / "stopped"
  shutil.copytree(os.path.join(runs, "pfy"), stopped)
  record_file = stopped / run_record.RECORD_FILE
  record = json.loads(record_file.read_text())
  record["encoder_step"] = record["train_steps"] // 2
  record_file.write_text(json.dumps(record))
  assert sweep_curves.gather(str(tmp_path), ["stopped"]) == {}
  assert list(sweep_curves.gather(str(tmp_path), ["stopped"],
                                  unfinished=True)) == [str(stopped)]


def test_curves_are_plotted_and_saved(runs, tmp_path):
  output = str(tmp_path / "curves")
  sweep_curves.main([f"--runs={runs}", "--pattern=pfy",
                     "--pattern=control/*", f"--output={output}"])
  assert os.path.getsize(output + ".png") > 0
  with open(output + ".json") as f:
    saved = json.load(f)
  assert set(saved) == {"pfy", os.path.join("control", "fp")}
  curves = saved[os.path.join("control", "fp")]["curves"]
  # One held-out evaluation in 10 steps: one point of each diagnostic.
  steps, values = curves["collapse/embedding_effective_dimension"]
  assert steps == [10] and values[0] > 0.0
  assert curves["validation/epoch_partial_ranks"][0] == [10]
  assert saved["pfy"]["label"].startswith("PerturbedFenchelYoung, Adam ")
