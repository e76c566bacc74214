"""Tests for s2l/run_spec.py: a run resolved and checked once."""

import json

import pytest

from s2l import losses
from s2l import run_spec
from s2l.data import frontends
from s2l.data import modalities
from s2l.data.patches import Slicing

NETWORK = run_spec.Network(width=0.25, depth=3, embedding_size=64,
                           dropout=0.0)
SCHEDULE = run_spec.Schedule(learning_rate=1e-5, train_steps=20,
                             steps_per_checkpoint=10, eval_batches=2,
                             log_every=5)
EXECUTION = run_spec.Execution(strategy="default", placement="data",
                               cache=True, jit_compile=False)


def _resolve(source="synthetic_notes", slicing=Slicing(nx=1, ny=10),
             loss="fixed_permutations100", **changes):
  network = run_spec.Network(**{**NETWORK.__dict__, **changes.pop(
      "network", {})})
  schedule = run_spec.Schedule(**{**SCHEDULE.__dict__, **changes.pop(
      "schedule", {})})
  execution = run_spec.Execution(**{**EXECUTION.__dict__, **changes.pop(
      "execution", {})})
  return run_spec.resolve(source, slicing, None, loss, network, schedule,
                          execution, changes.get("precision", "float32"),
                          32, 0, None)


def test_a_run_is_resolved_with_its_modality_front_end_and_bound_loss():
  spec = _resolve()
  assert spec.modality is modalities.AUDIO
  assert spec.frontend == frontends.AudioFrontend()
  assert isinstance(spec.loss, losses.FixedPermutationLoss)
  assert spec.num_patches == 10 and spec.loss.num_outputs == 100
  assert spec.grid == (1, 10)
  # Video: the frames are the patches, whatever the slicing.
  video = _resolve("synthetic_video", loss="perturbed_fenchel_young")
  assert video.num_patches == 20 and video.grid == (1, 1)
  assert video.loss.num_outputs == 20
  # XLA cannot compile the labels' check: it is off under jit_compile.
  assert not _resolve(execution={"jit_compile": True}).loss.check_labels


def test_its_record_and_data_side_round_trip():
  spec = _resolve()
  record = json.loads(json.dumps(spec.record([8, 31, 1])))
  assert record["network"] == {"num_patches": 10, "patch_shape": [8, 31, 1],
                               "num_outputs": 100, "width": 0.25,
                               "depth": 3, "embedding_size": 64,
                               "dropout": 0.0}
  assert record["source"] == {"name": "synthetic_notes"}
  assert (record["train_steps"], record["learning_rate"]) == (20, 1e-5)
  side = run_spec.from_record(record)
  assert side.source.name == "synthetic_notes"
  assert side.modality is modalities.AUDIO
  assert side.slicing == spec.slicing and side.frontend == spec.frontend


@pytest.mark.parametrize("changes, message", [
    ({"schedule": {"train_steps": 25}}, "multiple of steps_per_checkpoint"),
    ({"network": {"depth": 6}}, "depth"),
    ({"schedule": {"learning_rate": -1.0}}, "learning_rate"),
    ({"precision": "float8"}, "precision"),
    ({"source": "synthetic_video", "execution": {"placement": "model"}},
     "frontend_placement='model'"),
    ({"loss": "hinge"}, "unknown loss 'hinge'"),
    ({"source": "mnist"}, "unknown data source 'mnist'"),
])
def test_every_bad_setting_is_refused_before_any_data_is_read(changes,
                                                              message):
  with pytest.raises(ValueError, match=message):
    _resolve(**changes)
