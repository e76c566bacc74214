"""Tests for s2l/locks.py."""

import os
import socket
import subprocess
import sys

import pytest

from s2l import locks


def test_a_live_holder_keeps_others_out_and_release_frees(tmp_path):
  path = locks.acquire(str(tmp_path))
  assert open(path).read() == f"{socket.gethostname()} {os.getpid()}"
  with pytest.raises(locks.LockedError, match="already being written by "
                     "this process"):
    locks.acquire(str(tmp_path))
  locks.release(path)
  assert not os.path.exists(path)
  # Another live process's lock.
  sleeper = subprocess.Popen([sys.executable, "-c",
                              "import time; time.sleep(60)"])
  try:
    (tmp_path / locks.LOCK_FILE).write_text(
        f"{socket.gethostname()} {sleeper.pid}")
    with pytest.raises(locks.LockedError,
                       match=f"being written by process {sleeper.pid}"):
      locks.acquire(str(tmp_path))
  finally:
    sleeper.kill()
    sleeper.wait()
  # Now that it is dead, its lock is taken over.
  with locks.run_lock(str(tmp_path)):
    assert open(tmp_path / locks.LOCK_FILE).read().endswith(str(os.getpid()))
  assert not (tmp_path / locks.LOCK_FILE).exists()


def test_another_hosts_lock_is_respected_and_garbage_taken_over(tmp_path):
  (tmp_path / locks.LOCK_FILE).write_text("elsewhere 12345")
  with pytest.raises(locks.LockedError, match="on elsewhere"):
    locks.acquire(str(tmp_path))
  (tmp_path / locks.LOCK_FILE).write_text("")
  locks.release(locks.acquire(str(tmp_path)))
  # The lock is released when the block raises, too.
  with pytest.raises(ZeroDivisionError):
    with locks.run_lock(str(tmp_path)):
      1 / 0  # pylint: disable=pointless-statement
  assert not (tmp_path / locks.LOCK_FILE).exists()


def test_the_lock_appears_whole_and_a_racing_lock_wins(tmp_path, monkeypatch):
  path = str(tmp_path / locks.LOCK_FILE)
  real_link = os.link
  seen = []

  def link(src, dst):
    # The lock is written to a temporary file first and appears by this
    # link, whole: a reader never finds it empty.
    seen.append((os.path.basename(src), open(src).read()))
    real_link(src, dst)

  monkeypatch.setattr(os, "link", link)
  locks.release(locks.acquire(str(tmp_path)))
  assert len(seen) == 1 and seen[0][0].startswith(".LOCK.tmp-")
  assert seen[0][1] == f"{socket.gethostname()} {os.getpid()}"

  def rival_first(src, dst):
    # Another host takes the lock between our write and our link.
    with open(dst, "x") as f:
      f.write("elsewhere 12345")
    real_link(src, dst)

  monkeypatch.setattr(os, "link", rival_first)
  with pytest.raises(locks.LockedError, match="process 12345 on elsewhere"):
    locks.acquire(str(tmp_path))
  assert open(path).read() == "elsewhere 12345"
  assert os.listdir(tmp_path) == [locks.LOCK_FILE]
