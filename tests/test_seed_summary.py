"""Tests for experiments/seed_summary.py: probes of several pre-training
seeds pooled, and the gap in standard deviations."""

import json

import pytest

import experiment_scripts

seed_summary = experiment_scripts.load("seed_summary")


def _probe(seed, pretrained, random, metric="accuracy"):
  cell = lambda values: {"1000": {"metric": metric, "values": values}}
  return {"pretraining": {"seed": seed},
          "results": {"t": {"pretrained": cell(pretrained),
                            "random": cell(random)}}}


def test_values_of_every_seed_are_pooled_with_the_sample_std(tmp_path):
  probes = [_probe(0, [0.6, 0.7], [0.5, 0.5]), _probe(1, [0.8, 0.7],
                                                      [0.5, 0.7])]
  cell = seed_summary.summarise(probes)["t"]["1000"]
  assert cell["pretrained"]["mean"] == pytest.approx(0.7)
  # Sample std of (0.6, 0.7, 0.8, 0.7): sqrt(0.02 / 3).
  assert cell["pretrained"]["std"] == pytest.approx((0.02 / 3) ** 0.5)
  assert cell["random"]["mean"] == pytest.approx(0.55)
  assert cell["gap"] == pytest.approx(0.15)
  assert cell["gap_in_std"] == pytest.approx(0.15 / 0.1)
  assert cell["seeds"] == [0, 1]
  # Lower is better for MSE: the gap is positive when pre-training wins.
  mse = seed_summary.summarise([_probe(0, [40.0, 42.0], [50.0, 52.0],
                                       "mse")])["t"]["1000"]
  assert mse["gap"] == pytest.approx(10.0)


def test_the_command_writes_json_and_markdown(tmp_path, capsys):
  paths = []
  for seed in (0, 1):
    path = tmp_path / f"run_seed{seed}.json"
    path.write_text(json.dumps(_probe(seed, [0.7, 0.8], [0.5, 0.6])))
    paths.append(str(path))
  record = tmp_path / "run_seed0.run.json"
  record.write_text(json.dumps({"source": "x"}))  # Not a probe: skipped.
  seed_summary.main([*paths, str(record), f"--output={tmp_path}/summary",
                     "--title=Mine"])
  summary = json.loads((tmp_path / "summary.json").read_text())
  assert summary["probes"] == ["run_seed0.json", "run_seed1.json"]
  assert summary["summary"]["t"]["1000"]["gap"] == pytest.approx(0.2)
  text = (tmp_path / "summary.md").read_text()
  assert text.startswith("# Mine") and "| t | 1000 | accuracy |" in text
  with pytest.raises(ValueError, match="no probe"):
    seed_summary.summarise([])


def test_another_losss_probes_can_stand_for_the_random_encoder(tmp_path):
  # A loss probed without its random encoder: pretrained only.
  def pretrained_only(seed, values):
    probe = _probe(seed, values, [])
    del probe["results"]["t"]["random"]
    return probe
  probes = [pretrained_only(0, [0.8, 0.8]), pretrained_only(1, [0.9, 0.9])]
  randoms = [_probe(0, [0.0], [0.5, 0.6]), _probe(1, [0.0], [0.4, 0.5])]
  cell = seed_summary.summarise(probes, randoms)["t"]["1000"]
  assert cell["random"]["values"] == [0.5, 0.6, 0.4, 0.5]
  assert cell["pretrained"]["mean"] == pytest.approx(0.85)
  assert cell["gap"] == pytest.approx(0.85 - 0.5)
  with pytest.raises(ValueError, match="random encoders of seeds"):
    seed_summary.summarise(probes, randoms[:1])
  paths, random_paths = [], []
  for seed, (probe, random) in enumerate(zip(probes, randoms)):
    paths.append(tmp_path / f"loss_seed{seed}.json")
    paths[-1].write_text(json.dumps(probe))
    random_paths.append(tmp_path / f"pfy_seed{seed}.json")
    random_paths[-1].write_text(json.dumps(random))
  seed_summary.main([*map(str, paths), f"--output={tmp_path}/s",
                     "--random", *map(str, random_paths)])
  summary = json.loads((tmp_path / "s.json").read_text())
  assert summary["random_from"] == ["pfy_seed0.json", "pfy_seed1.json"]
  assert summary["summary"]["t"]["1000"]["gap"] == pytest.approx(0.35)
