"""Tests for experiments/aggregate_swap.py on a tiny pre-trained run."""

import importlib.util
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

import tiny_run

PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), "experiments", "aggregate_swap.py")
spec = importlib.util.spec_from_file_location("aggregate_swap", PATH)
aggregate_swap = importlib.util.module_from_spec(spec)
spec.loader.exec_module(aggregate_swap)


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
