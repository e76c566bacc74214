"""Tests for experiments/aggregate_swap.py on a tiny pre-trained run."""

import json
import os
import shutil

import gin
import numpy as np
import pytest
import tensorflow as tf

from s2l import evaluation
from s2l import run_directory
from s2l import training
from s2l.models import cfn

import experiment_scripts
import tiny_run

aggregate_swap = experiment_scripts.load("aggregate_swap")


@pytest.fixture(name="run", scope="module")
def _run(tmp_path_factory):
  """A finished 10-step tiny run (learning rate 0.01, so that its weights
  move off their initial values)."""
  run = str(tmp_path_factory.mktemp("run"))
  data_dir = tmp_path_factory.mktemp("tfds")
  gin.clear_config()
  tiny_run.parse_tiny_run(data_dir, "train.learning_rate = 0.01")
  training.train(run)
  gin.clear_config()
  return run


def _load(run, name):
  return tf.keras.models.load_model(os.path.join(run, name), compile=False)


def test_swapped_encoder_is_the_trained_patch_encoder_under_the_initial_layer(
    run, tmp_path):
  out = aggregate_swap.swap(run, str(tmp_path / "swapped"))
  trained = _load(run, run_directory.ENCODER_DIR)
  initial = _load(run, run_directory.INIT_ENCODER_DIR)
  swapped = _load(out, run_directory.ENCODER_DIR)
  patches = tf.random.stateless_normal(
      (4,) + tuple(trained.input_shape[1:]), seed=(1, 2))
  features = cfn.probed_model(trained, "patch_features")(patches).numpy()
  # The patch features are the trained run's, not the initial ones.
  np.testing.assert_allclose(
      cfn.probed_model(swapped, "patch_features")(patches).numpy(), features,
      rtol=1e-5, atol=1e-6)
  assert not np.allclose(
      cfn.probed_model(initial, "patch_features")(patches).numpy(), features,
      atol=1e-4)
  # The embedding is the initial layer applied to them: relu(f K0 + b0).
  kernel, bias = initial.get_layer(cfn.EMBEDDING_LAYER).get_weights()
  np.testing.assert_allclose(swapped(patches).numpy(),
                             np.maximum(features @ kernel + bias, 0.0),
                             rtol=1e-4, atol=1e-5)
  # ... which training had moved (and the swap left in RUN, read after it).
  assert not np.allclose(
      trained.get_layer(cfn.EMBEDDING_LAYER).get_weights()[0], kernel,
      atol=1e-4)
  # s2l.evaluate probes it as a finished run, against the run's initial
  # weights.
  output = evaluation.evaluate(out, tasks=("pitch",), num_examples=(8,),
                               seeds=(0,), epochs=1,
                               baselines=("pretrained", "random"))
  assert output["random_baseline"] == "run initialisation"
  assert set(output["results"]["pitch"]) == {"pretrained", "random"}


def test_swap_refuses_what_it_cannot_make(run, tmp_path):
  taken = tmp_path / "taken"
  taken.mkdir()
  with pytest.raises(FileExistsError, match="exists; give a new directory"):
    aggregate_swap.swap(run, str(taken))
  without_init = str(tmp_path / "without_init")
  shutil.copytree(run, without_init)
  shutil.rmtree(os.path.join(without_init, run_directory.INIT_ENCODER_DIR))
  with pytest.raises(FileNotFoundError, match="kept no initial weights"):
    aggregate_swap.swap(without_init, str(tmp_path / "out"))
  with pytest.raises(FileNotFoundError, match="no exported encoder"):
    aggregate_swap.swap(str(tmp_path), str(tmp_path / "out2"))


def _probe_json(path, family, pitch):
  """A probe JSON with the pre-trained encoder's cells at 1000 labels."""
  results = {
      "instrument_family": {"pretrained": {"1000": {
          "metric": "accuracy", "values": family}}},
      "pitch": {"pretrained": {"1000": {"metric": "mse", "values": pitch}}}}
  path.write_text(json.dumps({"results": results}))


def test_summary_gives_each_layer_and_the_share_the_initial_layer_keeps(
    tmp_path):
  folder = tmp_path / "aggregate_swap"
  folder.mkdir()
  # fc6 leads the trained embedding by 0.2 in family and 20 in pitch MSE;
  # the initial layer wins back 0.15 and 5 of them.
  _probe_json(folder / "run_a_fc6.json", [0.7, 0.8, 0.9], [30.0, 30.0, 30.0])
  _probe_json(folder / "run_a_embedding.json", [0.6, 0.6, 0.6],
              [50.0, 52.0, 48.0])
  _probe_json(folder / "run_a_swapped.json", [0.75, 0.75, 0.75],
              [45.0, 45.0, 45.0])
  summary = aggregate_swap.summarize(str(folder))
  family = summary["run_a"]["instrument_family"]
  assert family["kept_share"] == pytest.approx(0.75)
  assert family["fc6"]["mean"] == pytest.approx(0.8)
  assert family["fc6"]["std"] == pytest.approx(0.1)  # the sample std
  assert summary["run_a"]["pitch"]["kept_share"] == pytest.approx(0.25)
  with open(str(folder) + ".json") as f:
    assert json.load(f)["run_a"]["pitch"]["embedding"]["std"] == (
        pytest.approx(2.0))
  table = (tmp_path / "aggregate_swap.md").read_text()
  assert ("| run_a | instrument_family (accuracy) | 0.8000 ± 0.1000 | "
          "0.6000 ± 0.0000 | 0.7500 ± 0.0000 | 0.75 |") in table
  assert "| run_a | pitch (mse) | 30.00 ± 0.00 | 50.00 ± 2.00 |" in table
  # A run whose probes are not all there is named.
  _probe_json(folder / "run_b_swapped.json", [0.5], [40.0])
  with pytest.raises(FileNotFoundError, match="run_b_fc6.json is missing"):
    aggregate_swap.summarize(str(folder))
  with pytest.raises(FileNotFoundError, match="no <run>_swapped.json"):
    aggregate_swap.summarize(str(tmp_path))


def test_kept_share_counts_a_better_score_up_whatever_the_metric():
  assert aggregate_swap.kept_share(0.8, 0.6, 0.6, False) == 0.0
  assert aggregate_swap.kept_share(0.8, 0.6, 0.9, False) == pytest.approx(1.5)
  assert aggregate_swap.kept_share(30.0, 50.0, 60.0, True) == pytest.approx(
      -0.5)
  assert np.isnan(aggregate_swap.kept_share(0.6, 0.6, 0.7, False))
