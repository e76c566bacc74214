"""Tests for the scripts of experiments/: their commands parse."""

import os
import shlex
import subprocess

import gin
import pytest

from s2l import train as train_lib

ROOT = os.path.dirname(train_lib.GIN_DIR)
SCRIPTS = sorted(f for f in os.listdir(os.path.join(ROOT, "experiments"))
                 if f.endswith(".sh"))


def _dry_run(script, *args):
  output = subprocess.run(
      ["bash", os.path.join(ROOT, "experiments", script), *args],
      env=dict(os.environ, DRY_RUN="1", RUNS="/tmp/runs"), check=True,
      capture_output=True, text=True).stdout
  return [shlex.split(line) for line in output.splitlines() if line.strip()]


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_command_parses(script):
  commands = _dry_run(script, "--gin_param=train.train_steps = 200")
  assert commands
  for command in commands:
    assert command[1:3] == ["-m", "s2l.train"]
    flags = dict(arg[2:].split("=", 1) for arg in command[3:])
    assert flags["model_dir"].startswith("/tmp/runs/")
    gin.clear_config()
    train_lib.parse_gin([os.path.join(ROOT, flags["gin_file"])],
                        [flags["gin_param"]])
    assert gin.query_parameter("train.train_steps") == 200
  gin.clear_config()


def test_pretrain_twins_covers_every_embedded_twin():
  configs = {os.path.basename(c[3].split("=", 1)[1])
             for c in _dry_run("pretrain_twins.sh")}
  twins = {f for f in os.listdir(train_lib.GIN_DIR)
           if f.startswith("synthetic_") and f.endswith(".gin")}
  assert configs == twins
