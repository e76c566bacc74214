"""Tests for requirements.txt and setup.py: the pins agree and install what
they promise."""

import ast
import importlib.metadata
import os

from google.protobuf.internal import api_implementation
from packaging import requirements
from packaging import utils
from packaging import version

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _pins():
  """{normalised name: version} of requirements.txt's `name==version` lines."""
  pins = {}
  with open(os.path.join(ROOT, "requirements.txt")) as f:
    for line in f:
      line = line.split("#", 1)[0].strip()
      if line:
        name, pinned = line.split("==")
        pins[utils.canonicalize_name(name)] = pinned
  return pins


def _install_requires():
  """setup.py's install_requires, read without running setup()."""
  with open(os.path.join(ROOT, "setup.py")) as f:
    tree = ast.parse(f.read())
  for node in ast.walk(tree):
    if isinstance(node, ast.keyword) and node.arg == "install_requires":
      return [requirements.Requirement(r) for r in ast.literal_eval(node.value)]
  raise AssertionError("setup.py has no install_requires")


def test_every_line_of_requirements_is_an_exact_pin():
  pins = _pins()
  assert "tensorflow" in pins and "protobuf" in pins
  for name, pinned in pins.items():
    assert str(version.Version(pinned)) == pinned, name


def test_setup_py_accepts_the_pinned_versions():
  pins = _pins()
  for requirement in _install_requires():
    name = utils.canonicalize_name(requirement.name)
    assert name in pins, f"{name} is required by setup.py but not pinned"
    assert requirement.specifier.contains(pins[name], prereleases=True), (
        f"requirements.txt pins {name}=={pins[name]}, which setup.py's "
        f"{requirement} refuses")


def test_the_installed_stack_is_the_pinned_one():
  # What `make` installed from requirements.txt (a stale venv shows here).
  for name, pinned in _pins().items():
    assert importlib.metadata.version(name) == pinned, name


def test_protobuf_runs_its_compiled_backend():
  # The pure-Python backend (the only one of protobuf 3.20.3 on Python 3.11)
  # makes SavedModel exports and loads 2-3x slower
  # (benchmarks/run_overheads.py). Forcing it is the user's choice.
  if os.environ.get("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION") != "python":
    assert api_implementation.Type() == "upb"
