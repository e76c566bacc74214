"""Tests for s2l/atomic.py: whole files or none, even under SIGKILL."""

import glob
import json
import os
import signal
import subprocess
import sys

import pytest

from s2l import atomic

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A child that writes `path` through the helper and is killed by SIGKILL after
# the temporary file is written, closed and fsynced, before the rename.
_KILLED_WRITER = """
import json, os, signal, sys
from s2l import atomic

def killed(src, dst):
  with open(src) as f:  # The new content is whole on disk by now.
    assert json.load(f) == {"version": "new"}
  os.kill(os.getpid(), signal.SIGKILL)

os.replace = killed
atomic.write_json(sys.argv[1], {"version": "new"}, indent=2)
"""


def _files(folder):
  return sorted(os.listdir(folder))


def test_writes_and_replaces(tmp_path):
  path = str(tmp_path / "a.json")
  assert atomic.write_json(path, {"x": [1, 2]}, indent=2) == path
  assert (tmp_path / "a.json").read_text() == json.dumps({"x": [1, 2]},
                                                        indent=2)
  atomic.write_json(path, {"x": 3})
  assert json.loads((tmp_path / "a.json").read_text()) == {"x": 3}
  atomic.write_text(str(tmp_path / "b.md"), "# é\n")
  assert (tmp_path / "b.md").read_text(encoding="utf-8") == "# é\n"
  with atomic.replacing(str(tmp_path / "c.bin")) as temp:
    assert os.path.dirname(temp) == str(tmp_path)
    assert not os.path.exists(temp)
    with open(temp, "wb") as f:
      f.write(b"\x00\x01")
  assert (tmp_path / "c.bin").read_bytes() == b"\x00\x01"
  assert _files(tmp_path) == ["a.json", "b.md", "c.bin"]


def test_temporary_names_are_hidden_unique_and_not_json(tmp_path):
  path = str(tmp_path / "probe.json")
  names = {atomic.temp_path(path) for _ in range(100)}
  assert len(names) == 100
  for name in names:
    base = os.path.basename(name)
    assert os.path.dirname(name) == str(tmp_path)
    assert base.startswith(f".probe.json.tmp-{os.getpid()}-")
    assert not base.endswith(".json") and atomic.is_temp(name)
  assert not atomic.is_temp(path)
  assert not atomic.is_temp(str(tmp_path / ".hidden.json"))


def test_an_exception_mid_write_keeps_the_old_file_and_no_temp(tmp_path):
  path = tmp_path / "run.json"
  path.write_text('{"version": "old"}')
  with pytest.raises(RuntimeError, match="disk on fire"):
    with atomic.replacing(str(path)) as temp:
      with open(temp, "w") as f:
        f.write('{"version": "ne')
      raise RuntimeError("disk on fire")
  assert path.read_text() == '{"version": "old"}'
  assert _files(tmp_path) == ["run.json"]
  # A value JSON cannot hold fails before any file is touched.
  with pytest.raises(TypeError):
    atomic.write_json(str(path), {"version": object()})
  assert path.read_text() == '{"version": "old"}'
  assert _files(tmp_path) == ["run.json"]


def test_a_failed_rename_keeps_the_old_file_and_no_temp(tmp_path,
                                                        monkeypatch):
  path = tmp_path / "run.json"
  path.write_text('{"version": "old"}')

  def fail(src, dst):
    raise OSError(f"cannot rename {src} to {dst}")

  monkeypatch.setattr(os, "replace", fail)
  with pytest.raises(OSError, match="cannot rename"):
    atomic.write_json(str(path), {"version": "new"})
  assert path.read_text() == '{"version": "old"}'
  assert _files(tmp_path) == ["run.json"]


@pytest.mark.parametrize("old", ['{"version": "old"}', None])
def test_a_kill_between_the_write_and_the_rename_keeps_the_old_file(
    tmp_path, old):
  path = tmp_path / "probe.json"
  if old is not None:
    path.write_text(old)
  child = subprocess.run(
      [sys.executable, "-c", _KILLED_WRITER, str(path)], cwd=ROOT,
      capture_output=True, text=True, timeout=120,
      env={**os.environ, "PYTHONPATH": ROOT})
  assert child.returncode == -signal.SIGKILL, child.stderr
  if old is None:
    assert not path.exists()
  else:
    # Exactly the old version, still valid JSON.
    assert path.read_text() == old
    assert json.loads(path.read_text()) == {"version": "old"}
  # SIGKILL gives no chance to clean up: the temporary file remains, whole
  # (it was fsynced), under a name that readers of *.json skip.
  leftovers = [n for n in _files(tmp_path) if n != "probe.json"]
  assert len(leftovers) == 1 and atomic.is_temp(leftovers[0])
  assert leftovers[0].startswith(".probe.json.tmp-")
  assert json.loads((tmp_path / leftovers[0]).read_text()) == {
      "version": "new"}
  assert glob.glob(str(tmp_path / "*.json")) == (
      [] if old is None else [str(path)])


def test_create_text_is_exclusive_and_whole(tmp_path, monkeypatch):
  path = str(tmp_path / "LOCK")
  linked = []
  real_link = os.link

  def link(src, dst):
    # The name appears only through this link, with the whole content.
    with open(src) as f:
      linked.append(f.read())
    real_link(src, dst)

  monkeypatch.setattr(os, "link", link)
  assert atomic.create_text(path, "host 123") == path
  assert linked == ["host 123"]
  assert open(path).read() == "host 123"
  with pytest.raises(FileExistsError):
    atomic.create_text(path, "host 456")
  assert open(path).read() == "host 123"
  assert _files(tmp_path) == ["LOCK"]


def test_create_text_without_hard_links_still_excludes(tmp_path, monkeypatch):
  def no_links(src, dst):
    raise PermissionError(1, "Operation not permitted", src)

  monkeypatch.setattr(os, "link", no_links)
  path = str(tmp_path / "LOCK")
  atomic.create_text(path, "host 123")
  assert open(path).read() == "host 123"
  with pytest.raises(FileExistsError):
    atomic.create_text(path, "host 456")
  assert _files(tmp_path) == ["LOCK"]


def test_remote_paths_are_written_without_a_rename(monkeypatch):
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  written = {}

  class FakeGFile:

    def __init__(self, path, mode):
      assert mode == "w"
      self.path = path

    def __enter__(self):
      return self

    def __exit__(self, *args):
      return False

    def write(self, text):
      written[self.path] = text

  monkeypatch.setattr(tf.io.gfile, "GFile", FakeGFile)
  atomic.write_json("gs://bucket/run/probe.json", {"a": 1})
  assert written == {"gs://bucket/run/probe.json": '{"a": 1}'}
  with atomic.replacing("gs://bucket/run/figure.png") as temp:
    assert temp == "gs://bucket/run/figure.png"
