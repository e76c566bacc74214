"""Tests for experiments/ablations.py: every ablation's commands parse, each
changes what it says, and the table reads the probe JSONs."""

import json
import os
import subprocess
import sys

import gin
import pytest

from s2l import evaluation as evaluate_lib  # pylint: disable=unused-import
from s2l import configurables
from s2l import training as train_lib

ROOT = os.path.dirname(configurables.GIN_DIR)
sys.path.insert(0, os.path.join(ROOT, "experiments"))
import ablations  # pylint: disable=g-import-not-at-top,wrong-import-position


def _flags(argv, name):
  return [a.split("=", 1)[1] for a in argv if a.startswith(f"--{name}=")]


@pytest.mark.parametrize("data", sorted(ablations.CONFIGS))
def test_every_ablation_changes_one_thing_and_parses(data):
  defaults = {}
  for ablation in ablations.ABLATIONS:
    (_, train), (_, probe) = ablations.commands(data, ablation, "/r", "/o")
    assert train[1:3] == ["-m", "s2l.train"]
    gin.clear_config()
    configurables.parse_gin([os.path.join(ROOT, f) for f in
                         _flags(train, "gin_file")], _flags(train, "gin_param"))
    setting = {name: gin.query_parameter(f"train.{name}")
               for name in ("learning_rate", "train_steps", "depth")}
    setting["dropout"] = (gin.query_parameter("train.dropout")
                          if "train.dropout" in gin.config_str() else 0.0)
    if ablation.name == "default":
      defaults = setting
      assert setting["learning_rate"] == 1e-3
    (model_dir,) = _flags(train, "model_dir")
    assert model_dir == f"/r/{data}/{ablation.run_name}"
    # The probe reads the run it names and writes where the table reads.
    assert _flags(probe, "model_dir") == [model_dir]
    bindings = _flags(probe, "gin_param")
    gin.clear_config()
    configurables.parse_gin([], bindings)
    assert gin.query_parameter("evaluate.output") == (
        f"/o/ablations/{data}/{ablation.name}.json")
    assert gin.query_parameter("evaluate.num_examples") == (1000,)
    if ablation.run:  # A probe-only change keeps the default's pre-training.
      assert ablation.run == "default" and not ablation.train
      assert len(bindings) == len(ablations.PROBE) + 1 + len(ablation.probe)
  changed = {a.name: a for a in ablations.ABLATIONS}
  assert changed["lr1e-6"].train[0] == "train.learning_rate = 1e-6"
  assert defaults["train_steps"] == 2000 and defaults["dropout"] == 0.0
  gin.clear_config()


def _report(results, partial_ranks):
  cell = lambda m, metric: {"1000": {"metric": metric, "mean": m, "std": 0.01,
                                     "values": [m]}}
  return {"results": {
      "instrument_family": {"pretrained": cell(0.6, "accuracy"),
                            "random": cell(0.5, "accuracy")},
      "instrument": {"pretrained": cell(0.4, "accuracy"),
                     "random": cell(0.3, "accuracy")},
      "pitch": {"pretrained": cell(40.0, "mse"), "random": cell(50.0, "mse")}},
          "upstream": {"partial_ranks": partial_ranks},
          "representation": {
              "pretrained": {"dead_fraction": 0.25,
                             "effective_dimension": 2.5},
              "random": {"dead_fraction": 0.1, "effective_dimension": 9.0}},
          **results}


def test_table_lays_out_each_finished_ablation(tmp_path):
  folder = tmp_path / "ablations" / "soundfont_notes"
  folder.mkdir(parents=True)
  (folder / "lr1e-4.json").write_text(json.dumps(_report({}, 0.54)))
  table = ablations.table(str(tmp_path))
  assert "### soundfont_notes" in table and "### synthetic_notes" not in table
  (row,) = [line for line in table.splitlines() if "`lr1e-4`" in line]
  assert "0.600 ± 0.010 / 0.500 ± 0.010" in row
  assert "40.0 ± 0.0 / 50.0 ± 0.0" in row
  assert "| 0.540 | 25% / 10% | 2.5 / 9.0 |" in row


def test_a_probed_ablation_is_not_pre_trained_again(tmp_path):
  """Its run may be gone (another machine): the table and plot are made
  from what exists, without training."""
  folder = tmp_path / "ablations" / "soundfont_notes"
  folder.mkdir(parents=True)
  (folder / "lr1e-4.json").write_text(json.dumps(_report({}, 0.54)))
  done = subprocess.run(
      [sys.executable, os.path.join(ROOT, "experiments", "ablations.py"),
       "--data=soundfont_notes", "--only=lr1e-4",
       f"--runs_dir={tmp_path / 'runs'}", f"--results_dir={tmp_path}"],
      capture_output=True, text=True, timeout=300)
  assert done.returncode == 0, done.stderr[-2000:]
  assert "s2l.train" not in done.stdout
  assert not (tmp_path / "runs").exists()
  assert "`lr1e-4`" in (tmp_path / "ablations.md").read_text()
  assert (tmp_path / "ablations.png").stat().st_size > 0
