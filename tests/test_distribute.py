"""Tests for s2l/distribute.py: replicated training matches one device."""

import json
import os
import re
import signal
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow_datasets as tfds

from s2l import distribute

RUN = os.path.join(os.path.dirname(__file__), "distributed_run.py")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(name="data_dir", scope="module")
def _data_dir(tmp_path_factory):
  data_dir = str(tmp_path_factory.mktemp("tfds"))
  # Build the tiny data once, so concurrent workers only read it.
  import s2l.datasets.synthetic_notes  # pylint: disable=import-outside-toplevel,unused-import
  tfds.builder("s2l_synthetic_notes/tiny",
               data_dir=data_dir).download_and_prepare(
                   download_config=tfds.download.DownloadConfig(
                       try_download_gcs=False))
  return data_dir


def _start(model_dir, data_dir, strategy, cpus=1, tf_config=None,
           placement="data", steps=(12, 4)):
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="2")
  env.pop("TF_CONFIG", None)
  if tf_config is not None:
    env["TF_CONFIG"] = json.dumps(tf_config)
  return subprocess.Popen(
      [sys.executable, RUN, str(model_dir), data_dir, strategy, str(cpus),
       placement, *map(str, steps)],
      env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _losses(process):
  output, _ = process.communicate(timeout=300)
  assert process.returncode == 0, output[-3000:]
  # Found anywhere in a line: TensorFlow's C++ threads write to the same pipe
  # and a log line can land in front of it.
  found = re.findall(r"LOSSES (\[[^\]]*\])", output)
  assert found, output[-3000:]
  return np.array(json.loads(found[-1]))


def _free_port():
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


@pytest.mark.slow  # ~20 s; `make test-all` runs it.
def test_mirrored_on_two_cpus_matches_one_device(tmp_path, data_dir):
  single = _losses(_start(tmp_path / "one", data_dir, "default"))
  mirrored = _losses(_start(tmp_path / "two", data_dir, "mirrored", cpus=2))
  assert len(single) == 3 and single[-1] < single[0]
  np.testing.assert_allclose(mirrored, single, rtol=1e-4)


@pytest.mark.slow  # ~20 s; `make test-all` runs it.
def test_the_front_end_in_the_model_splits_across_replicas(tmp_path,
                                                           data_dir):
  # Each replica draws its examples' permutations from their own seeds, so
  # two replicas train on what one device trains on with tf.data's patches.
  single = _losses(_start(tmp_path / "one", data_dir, "default"))
  mirrored = _losses(_start(tmp_path / "two", data_dir, "mirrored", cpus=2,
                            placement="model"))
  np.testing.assert_allclose(mirrored, single, rtol=1e-4)


def _cluster(tmp_path, data_dir, steps):
  """Starts two localhost workers of one multi_worker run."""
  workers = [f"localhost:{_free_port()}" for _ in range(2)]
  return [_start(tmp_path / "multi", data_dir, "multi_worker", steps=steps,
                 tf_config={"cluster": {"worker": workers},
                            "task": {"type": "worker", "index": i}})
          for i in range(2)]


def test_two_workers_on_localhost_match_one_device(tmp_path, data_dir):
  # The one-device run goes alongside the workers, which wait on each other.
  one = _start(tmp_path / "one", data_dir, "default")
  processes = _cluster(tmp_path, data_dir, steps=(12, 4))
  chief, other = (_losses(p) for p in processes)
  single = _losses(one)
  np.testing.assert_allclose(chief, single, rtol=1e-4)
  np.testing.assert_allclose(other, single, rtol=1e-4)
  # Only the chief writes to the model directory proper.
  assert os.path.exists(tmp_path / "multi" / "encoder")
  assert os.listdir(tmp_path / "multi" / "workers") == ["worker_1"]


@pytest.mark.slow  # ~90 s; `make test-all` runs it.
def test_a_signal_to_one_worker_checkpoints_every_worker_at_one_step(
    tmp_path, data_dir):
  steps = (400, 200)  # One periodic checkpoint, at step 200.
  chief, other = _cluster(tmp_path, data_dir, steps)
  lines = []
  # The chief logs "step k/400" every 10 steps: signal the other worker once
  # training is under way, past the first step and before the periodic save.
  for line in chief.stdout:
    lines.append(line)
    reached = re.search(r"step (\d+)/400", line)
    if reached and int(reached.group(1)) >= 30:
      break
  assert chief.poll() is None, "".join(lines)[-3000:]
  other.send_signal(signal.SIGTERM)
  outputs = [("".join(lines) + chief.communicate(timeout=300)[0]),
             other.communicate(timeout=300)[0]]
  stopped = []
  for process, output in zip((chief, other), outputs):
    assert process.returncode == 128 + signal.SIGTERM, output[-3000:]
    (line,) = [l for l in output.splitlines() if l.startswith("PREEMPTED ")]
    stopped.append(int(line.split()[1]))
  # Both stopped at the one agreed step, before the periodic checkpoint,
  # and the chief's checkpoint holds it.
  assert stopped[0] == stopped[1] and 30 <= stopped[0] < 200, stopped
  assert os.path.exists(tmp_path / "multi" / "checkpoints" /
                        f"ckpt-{stopped[0]}.index")
  assert "Rerun every worker's command" in outputs[1]
  # The rerun resumes both workers from that step, not from step 0.
  chief, other = _cluster(tmp_path, data_dir, steps)
  for process in (chief, other):
    output = process.communicate(timeout=300)[0]
    assert process.returncode == 0, output[-3000:]
    assert f"at step {stopped[0]}." in output, output[-3000:]
    losses = json.loads(output.split("LOSSES ")[-1].splitlines()[0])
    assert len(losses) == 2 and np.all(np.isfinite(losses))


def test_strategy_names(monkeypatch):
  with pytest.raises(ValueError, match="one of"):
    distribute.make_strategy("horovod")
  monkeypatch.delenv("TF_CONFIG", raising=False)
  with pytest.raises(ValueError, match="TF_CONFIG"):
    distribute.make_strategy("multi_worker")
  assert distribute.is_chief() and distribute.task_name() == "chief_0"
  monkeypatch.setenv("TF_CONFIG", json.dumps(
      {"cluster": {"worker": ["a:1", "b:2"]},
       "task": {"type": "worker", "index": 1}}))
  assert not distribute.is_chief()
  # A restarted worker finds its scratch directory again by this name.
  assert distribute.task_name() == "worker_1"


def test_importing_s2l_leaves_the_eager_context_untouched():
  # MultiWorkerMirroredStrategy must configure collective ops before the
  # context starts: a tensor made at import time (a module-level tf.constant)
  # broke the two-worker run with "Collective ops must be configured at
  # program startup".
  code = ("from tensorflow.python.eager import context\n"
          "import s2l.training, s2l.evaluation, s2l.ranking, s2l.losses\n"
          "assert not context.context()._initialized\n")
  result = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, check=False)
  assert result.returncode == 0, result.stderr[-2000:]
