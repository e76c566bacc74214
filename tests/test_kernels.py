"""Tests for s2l/kernels: the build command, the build entry point, and the
raw ops' refusal of malformed inputs.

The kernels' maths are tested against the pure-TF path in test_ranking.py.
"""

import os
import shutil
import subprocess
import sys

import pytest
import tensorflow as tf

from s2l import kernels
from s2l.kernels import __main__ as build


def test_the_build_uses_the_installed_tensorflow_flags():
  command = kernels.build_command("a.cc", "b.so")
  for flag in tf.sysconfig.get_compile_flags() + tf.sysconfig.get_link_flags():
    assert flag in command
  assert command.startswith("${CXX:-g++} -O3 -shared -fPIC a.cc -o b.so")
  assert "-fsanitize" not in command


def test_the_sanitized_build_has_its_own_library_and_flags():
  command = kernels.build_command(sanitize=True)
  assert f"-o {kernels.SANITIZED_LIBRARY} " in command
  # Beside the plain library, not over it (LIBRARY itself may name this one,
  # as under `make test-asan`).
  assert kernels.SANITIZED_LIBRARY == os.path.join(
      os.path.dirname(kernels.SOURCE), "_ranking_ops_asan.so")
  assert ("-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer "
          "-fno-sanitize-recover=all") in command
  assert "-O3" not in command


def test_a_failed_build_says_the_pure_tf_path_runs(monkeypatch, capsys,
                                                   tmp_path):
  monkeypatch.setattr(kernels, "LIBRARY", str(tmp_path / "_ranking_ops.so"))
  assert str(tmp_path) in kernels.build_command()
  monkeypatch.setenv("CXX", "false")  # A compiler that always fails.
  assert build.main() != 0
  assert "was not built" in capsys.readouterr().err
  assert not (tmp_path / "_ranking_ops.so").exists()


def test_a_failed_sanitized_build_is_named(monkeypatch, capsys, tmp_path):
  monkeypatch.setattr(kernels, "SANITIZED_LIBRARY", str(tmp_path / "a.so"))
  monkeypatch.setenv("CXX", "false")
  assert build.main(["--sanitize"]) != 0
  out, err = capsys.readouterr()
  assert "-fsanitize=address,undefined" in out and str(tmp_path) in out
  assert f"{tmp_path / 'a.so'} was not built" in err


def _tested_s2l_first() -> str:
  """PYTHONPATH for a subprocess that must import the s2l under test."""
  root = os.path.dirname(os.path.dirname(os.path.dirname(kernels.__file__)))
  return os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))


def test_the_module_entry_point_runs(tmp_path):
  other = str(tmp_path / "other.so")
  result = subprocess.run([sys.executable, "-m", "s2l.kernels"],
                          capture_output=True, text=True, check=False,
                          env={"CXX": "false", "PATH": "/usr/bin:/bin",
                               "PYTHONPATH": _tested_s2l_first(),
                               "S2L_KERNEL_LIBRARY": other})
  assert result.returncode != 0 and "was not built" in result.stderr
  # The command it ran builds the library S2L_KERNEL_LIBRARY names.
  assert f"-o {other} " in result.stdout


def test_malformed_inputs_to_the_raw_ops_are_refused_not_crashes():
  """tests/kernel_fuzz.py, in a subprocess: every malformed call of
  S2lSoftRankSort, S2lSoftRankSortGrad and S2lRank (ranks, shapes, strength,
  order and block_start out of range or inconsistent) raises
  InvalidArgumentError from the op it calls, and never crashes; well-formed
  calls, empty dimensions included, run. Under `make test-asan` the
  subprocess inherits the sanitized library and libasan."""
  if kernels.library() is None:
    if shutil.which(os.environ.get("CXX", "g++")) is None:
      pytest.skip("no C++ compiler: the compiled kernel cannot be built")
    pytest.fail(f"the compiled kernel is missing: {kernels.reason()}")
  script = os.path.join(os.path.dirname(__file__), "kernel_fuzz.py")
  result = subprocess.run(
      [sys.executable, script], capture_output=True, text=True, check=False,
      env={**os.environ, "PYTHONPATH": _tested_s2l_first()}, timeout=600)
  lines = result.stdout.splitlines()
  started = [line[len("START "):] for line in lines
             if line.startswith("START ")]
  ended = [line[len("END "):].split(" | ", 4) for line in lines
           if line.startswith("END ")]
  last = started[-1] if started else "(none: before the first case)"
  assert result.returncode == 0, (
      f"the fuzz process died (exit {result.returncode}) in case {last!r}:\n"
      f"{result.stdout[-300:]}\n{result.stderr[-3000:]}")
  assert lines[0] == f"CASES {len(ended)}" and len(started) == len(ended)
  failures = []
  for name, expected, words, got, message in ended:
    if got != expected or not all(word in message
                                  for word in words.split(" & ")):
      failures.append(f"{name}: expected {expected} ({words}), got {got}: "
                      f"{message}")
  assert not failures, "\n".join(failures)
  outcomes = [got for _, _, _, got, _ in ended]
  assert outcomes.count("ok") >= 30
  assert outcomes.count("InvalidArgumentError") >= 100
