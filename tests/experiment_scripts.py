"""Loads a script of experiments/ as a module, for its tests (not a test
module: the scripts are not a package)."""

import importlib.util
import os

FOLDER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), "experiments")


def load(name: str):
  """The module of experiments/<name>.py, executed once per call."""
  spec = importlib.util.spec_from_file_location(
      name, os.path.join(FOLDER, name + ".py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module
