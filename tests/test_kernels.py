"""Tests for s2l/kernels: the build command and the build entry point.

The kernels' maths are tested against the pure-TF path in test_ranking.py.
"""

import subprocess
import sys

import tensorflow as tf

from s2l import kernels
from s2l.kernels import __main__ as build


def test_the_build_uses_the_installed_tensorflow_flags():
  command = kernels.build_command("a.cc", "b.so")
  for flag in tf.sysconfig.get_compile_flags() + tf.sysconfig.get_link_flags():
    assert flag in command
  assert command.startswith("${CXX:-g++} -O3 -shared -fPIC a.cc -o b.so")


def test_a_failed_build_says_the_pure_tf_path_runs(monkeypatch, capsys,
                                                   tmp_path):
  monkeypatch.setattr(kernels, "LIBRARY", str(tmp_path / "_ranking_ops.so"))
  assert str(tmp_path) in kernels.build_command()
  monkeypatch.setenv("CXX", "false")  # A compiler that always fails.
  assert build.main() != 0
  assert "was not built" in capsys.readouterr().err
  assert not (tmp_path / "_ranking_ops.so").exists()


def test_the_module_entry_point_runs():
  result = subprocess.run([sys.executable, "-m", "s2l.kernels"],
                          capture_output=True, text=True, check=False,
                          env={"CXX": "false", "PATH": "/usr/bin:/bin"})
  assert result.returncode != 0 and "was not built" in result.stderr
  assert kernels.LIBRARY in result.stdout  # The command it ran.
