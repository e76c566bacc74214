"""Tests for experiments/layer_gaps.py: each loss's gain over its random
encoder, side by side for the layers a data set was probed at."""

import json
import os

import numpy as np
import pytest

import experiment_scripts

layer_gaps = experiment_scripts.load("layer_gaps")


def _probe(loss, seed, family, random=None, layer=None):
  """An s2l.evaluate JSON: family accuracy of the pre-trained encoder (and
  of the random one), pitch MSE 40 and 41 against 50 and 52."""
  cell = lambda metric, values: {"1000": {"metric": metric, "values": values}}
  results = {"family": {"pretrained": cell("accuracy", family)},
             "pitch": {"pretrained": cell("mse", [40.0, 41.0])}}
  if random is not None:
    results["family"]["random"] = cell("accuracy", random)
    results["pitch"]["random"] = cell("mse", [50.0, 52.0])
  run = {"pretraining": {"loss": loss, "seed": seed}, "results": results}
  if layer:
    run["layer"] = layer
  return run


def _write(folder, name, run):
  os.makedirs(folder, exist_ok=True)
  with open(os.path.join(folder, name + ".json"), "w") as f:
    json.dump(run, f)


def test_gains_per_layer_are_written_as_json_markdown_and_a_figure(tmp_path):
  embedding, fc6 = tmp_path / "embedding", tmp_path / "fc6"
  _write(embedding, "pfy", _probe("PerturbedFenchelYoungLoss", 0,
                                  [0.70, 0.72], [0.60, 0.61]))
  _write(embedding, "mse", _probe("RankMSELoss", 0, [0.60, 0.64]))
  _write(fc6, "pfy", _probe("PerturbedFenchelYoungLoss", 0, [0.75, 0.77],
                            [0.62, 0.63], "patch_features"))
  _write(fc6, "mse", _probe("RankMSELoss", 0, [0.80, 0.82], None,
                            "patch_features"))
  out = str(tmp_path / "gaps")
  layer_gaps.main(["--data", "twin", str(embedding), str(fc6),
                   f"--output={out}"])
  data = json.loads(open(out + ".json").read())["data"]["twin"]
  assert set(data) == {"embedding", "patch_features"}
  # MSE at the embedding against seed 0's random (Perturbed F-Y's probe):
  # (0.62 - 0.605) / std(0.60, 0.64).
  mse = data["embedding"]["margins"]["MSE"]["family"]["1000"]
  assert mse["gap"] == pytest.approx(0.015)
  assert mse["margin"] == pytest.approx(0.015 / np.std([0.6, 0.64], ddof=1))
  # At fc6, against the random encoder cut there.
  mse = data["patch_features"]["margins"]["MSE"]["family"]["1000"]
  assert mse["gap"] == pytest.approx(0.81 - 0.625)
  # Pitch: lower is better, the gain positive: 51 - 40.5.
  pitch = data["patch_features"]["margins"]["Perturbed F-Y"]["pitch"]["1000"]
  assert pitch["gap"] == pytest.approx(10.5)
  text = open(out + ".md").read()
  assert "| MSE | fc6 | 1000 | 0 | 0.8100 ± 0.0141 vs 0.6250 ± 0.0071" in text
  assert open(out + ".png", "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_a_folder_must_hold_one_layer_and_each_layer_one_folder(tmp_path):
  mixed = tmp_path / "mixed"
  _write(mixed, "a", _probe("PerturbedFenchelYoungLoss", 0, [0.7, 0.72],
                            [0.6, 0.61]))
  _write(mixed, "b", _probe("RankMSELoss", 0, [0.6, 0.62], None,
                            "patch_features"))
  with pytest.raises(ValueError, match="mixes probes of the layers"):
    layer_gaps.gather([("twin", str(mixed))])
  one, two = tmp_path / "one", tmp_path / "two"
  for folder in (one, two):
    _write(folder, "a", _probe("PerturbedFenchelYoungLoss", 0, [0.7, 0.72],
                               [0.6, 0.61]))
  with pytest.raises(ValueError, match="were both probed at the embedding"):
    layer_gaps.gather([("twin", str(one), str(two))])
  with pytest.raises(ValueError, match="names no results folder"):
    layer_gaps.gather([("twin",)])


def _two_regimes(run):
  """`run` probed at 500 labels as well, with the same values."""
  for by_encoder in run["results"].values():
    for by_regime in by_encoder.values():
      by_regime["500"] = dict(by_regime["1000"])
  return run


def test_each_layer_and_number_of_labels_has_bars_of_its_own(tmp_path,
                                                              monkeypatch):
  import matplotlib
  matplotlib.use("Agg")
  from matplotlib.axes import Axes
  embedding, fc6 = tmp_path / "embedding", tmp_path / "fc6"
  _write(embedding, "pfy", _two_regimes(_probe(
      "PerturbedFenchelYoungLoss", 0, [0.70, 0.72], [0.60, 0.61])))
  _write(fc6, "pfy", _two_regimes(_probe(
      "PerturbedFenchelYoungLoss", 0, [0.75, 0.77], [0.62, 0.63],
      "patch_features")))
  gathered = layer_gaps.gather([("twin", str(embedding), str(fc6))])
  assert layer_gaps._series(gathered["twin"]) == [
      ("embedding", "500"), ("embedding", "1000"),
      ("patch_features", "500"), ("patch_features", "1000")]
  drawn = []
  original = Axes.bar
  def bar(self, xs, heights, *args, **kwargs):
    drawn.append((id(self), tuple(xs), kwargs.get("label")))
    return original(self, xs, heights, *args, **kwargs)
  monkeypatch.setattr(Axes, "bar", bar)
  layer_gaps.plot(gathered, str(tmp_path / "gaps.png"), "title")
  # Two panels (family, pitch), four series each, no two at one position.
  assert len(drawn) == 8
  for panel in {axes for axes, _, _ in drawn}:
    xs = [x for axes, positions, _ in drawn if axes == panel
          for x in positions]
    assert len(xs) == 4 and len(set(xs)) == 4
  assert {label for _, _, label in drawn} == {
      "probed at embedding, 500 labels", "probed at embedding, 1000 labels",
      "probed at fc6, 500 labels", "probed at fc6, 1000 labels"}
