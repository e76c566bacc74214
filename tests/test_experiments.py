"""Tests for the scripts of experiments/: their dry runs print commands that
parse, probe only runs they pre-train, and write where the report reads."""

import os
import shlex
import subprocess

import gin
import pytest

from s2l import evaluation as evaluate_lib  # pylint: disable=unused-import
from s2l import configurables
from s2l import training as train_lib

ROOT = os.path.dirname(configurables.GIN_DIR)
SCRIPTS = sorted(f for f in os.listdir(os.path.join(ROOT, "experiments"))
                 if f.endswith(".sh") and f != "common.sh")
TABLES_AND_FIGURES = [s for s in SCRIPTS if s.startswith(("table", "figure"))]


def _dry_run(script, *args, **env):
  output = subprocess.run(
      ["bash", os.path.join(ROOT, "experiments", script), *args],
      env=dict(os.environ, DRY_RUN="1", RUNS="/tmp/runs", RESULTS="/tmp/res",
               **env), check=True, capture_output=True, text=True).stdout
  return [shlex.split(line) for line in output.splitlines() if line.strip()]


def _flags(command):
  """{flag: [values]} of `python -m module --flag=value ...`."""
  flags = {}
  for arg in command[3:]:
    if not arg.startswith("--"):
      continue
    name, value = arg[2:].split("=", 1)
    flags.setdefault(name, []).append(value)
  return flags


def _check(commands, script, data="embedded"):
  """Parses every command's gin; returns the probed model_dirs."""
  trained, probed = {}, []
  for command in commands:
    module = command[2]
    flags = _flags(command)
    gin.clear_config()
    if module == "s2l.train":
      (model_dir,) = flags["model_dir"]
      assert model_dir.startswith("/tmp/runs/")
      files = [os.path.join(ROOT, f) for f in flags["gin_file"]]
      configurables.parse_gin(files, flags.get("gin_param", []))
      assert gin.query_parameter("train.train_steps") == 200
      source = gin.query_parameter("train.source")
      assert source.startswith("synthetic_") == (data == "embedded")
      trained[model_dir] = files
    elif module == "s2l.evaluate":
      (model_dir,) = flags["model_dir"]
      assert model_dir in trained, f"{model_dir} is probed, never trained"
      # The run's config, then the probe's bindings, as evaluate parses them.
      configurables.parse_gin(trained[model_dir], flags["gin_param"])
      output = gin.query_parameter("evaluate.output")
      experiment = os.path.splitext(script)[0]
      assert os.path.dirname(output) == f"/tmp/res/{experiment}"
      probed.append(model_dir)
    else:
      assert command[2:] == ["s2l.report", "/tmp/res"]
  gin.clear_config()
  return probed


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_command_parses(script):
  commands = _dry_run(script, "--gin_param=train.train_steps = 200")
  assert commands
  probed = _check(commands, script)
  if script in TABLES_AND_FIGURES:
    assert probed and commands[-1][2] == "s2l.report"
    outputs = [c for c in commands if c[2] == "s2l.evaluate"]
    assert len({str(c) for c in outputs}) == len(outputs)


@pytest.mark.parametrize("script", TABLES_AND_FIGURES)
def test_real_data_switch(script):
  commands = _dry_run(script, "--gin_param=train.train_steps = 200",
                      DATA="real", BUDGET="full", DATA_DIR="/data/tfds")
  _check(commands, script, data="real")
  train = [c for c in commands if c[2] == "s2l.train"]
  assert all("--gin_param=train.data_dir = '/data/tfds'" in c for c in train)


def test_bad_settings_are_refused():
  for env in ({"DATA": "nsynth"}, {"BUDGET": "huge"}):
    result = subprocess.run(
        ["bash", os.path.join(ROOT, "experiments", "table1.sh")],
        env=dict(os.environ, DRY_RUN="1", **env), capture_output=True,
        text=True)
    assert result.returncode == 2
    assert "must be" in result.stderr


def test_scripts_cover_the_papers_audio_tables_and_figures():
  assert {"table1.sh", "table2.sh", "table5.sh", "table6.sh", "figure3.sh",
          "figure4.sh"} <= set(SCRIPTS)
  regimes = {}
  for script in ("table1.sh", "table5.sh", "table6.sh"):
    commands = _dry_run(script)
    probes = [_flags(c)["gin_param"] for c in commands
              if c[2] == "s2l.evaluate"]
    regimes[script] = {b for p in probes for b in p
                       if b.startswith("evaluate.num_examples")}
    # One probe per pretext loss, the random embedding with the first.
    assert len(probes) == 6
    assert sum("'random'" in b for p in probes for b in p) == 1
  assert regimes == {"table1.sh": {"evaluate.num_examples = (1000,)"},
                     "table5.sh": {"evaluate.num_examples = (500,)"},
                     "table6.sh": {"evaluate.num_examples = (5000,)"}}


def test_pretrain_twins_covers_every_embedded_twin():
  configs = {os.path.basename(c[3].split("=", 1)[1])
             for c in _dry_run("pretrain_twins.sh")}
  twins = {f for f in os.listdir(configurables.GIN_DIR)
           if f.startswith("synthetic_") and f.endswith(".gin")}
  assert configs == twins
