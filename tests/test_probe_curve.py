"""Tests for experiments/probe_curve.py: one probe cell made again on a tiny
pre-trained run, with its head's test score along its epochs."""

import json
import os

import gin
import pytest

from s2l import evaluation
from s2l import training

import experiment_scripts
import tiny_run

probe_curve = experiment_scripts.load("probe_curve")


@pytest.fixture(name="probed", scope="module")
def _probed(tmp_path_factory):
  """(a 10-step tiny run, its probe JSON's path): family and pitch at 16
  labels, probe seeds 0 and 1, 20 epochs."""
  run = str(tmp_path_factory.mktemp("run"))
  data_dir = tmp_path_factory.mktemp("tfds")
  gin.clear_config()
  tiny_run.parse_tiny_run(data_dir)
  training.train(run)
  gin.clear_config()
  output = os.path.join(run, "probe.json")
  evaluation.evaluate(run, tasks=("instrument_family", "pitch"),
                      num_examples=(16,), seeds=(0, 1),
                      baselines=("pretrained", "random"), epochs=20,
                      output=output)
  return run, output


def test_remade_cell_is_the_recorded_one_and_its_curve_ends_there(
    probed, tmp_path):
  run, path = probed
  with open(path) as f:
    record = json.load(f)
  with pytest.raises(ValueError, match="no cell pitch/pretrained/99"):
    probe_curve.remake(record, "pitch", "pretrained", 99, 0, 5, epochs=20)
  with pytest.raises(ValueError, match="holds 2 seeds"):
    probe_curve.remake(record, "pitch", "pretrained", 16, 2, 5, epochs=20)
  before = sorted(os.listdir(run))
  result = probe_curve.remake(record, "pitch", "random", 16, 1, 5, epochs=20)
  assert result["metric"] == "mse"
  assert result["recorded"] == record["results"]["pitch"]["random"]["16"][
      "values"][1]
  # The same labelled examples, initialisation and batch order: the same
  # head, hence the recorded score.
  assert result["remade"] == pytest.approx(result["recorded"], rel=1e-4)
  assert [p["epoch"] for p in result["curve"]] == [1, 5, 10, 15, 20]
  assert result["curve"][-1]["test"]["mse"] == pytest.approx(
      result["remade"], rel=1e-5)
  assert result["curve"][-1]["train_loss"] < result["curve"][0]["train_loss"]
  # Nothing is written beside the recorded probe, which is left as it was.
  assert sorted(os.listdir(run)) == before
  with open(path) as f:
    assert json.load(f) == record

  output = str(tmp_path / "curves" / "family")
  probe_curve.main([f"--probe={path}", "--task=instrument_family",
                    "--labels=16", "--seed=0", "--every=10",
                    f"--model_dir={run}", f"--output={output}",
                    "--epochs=20"])
  with open(output + ".json") as f:
    written = json.load(f)
  assert written["metric"] == "accuracy"
  assert [p["epoch"] for p in written["curve"]] == [1, 10, 20]
  assert written["remade"] == pytest.approx(written["recorded"], abs=1e-6)
  assert os.path.getsize(output + ".png") > 0
