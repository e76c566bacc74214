"""One writer per run directory: a lock file, taken over when stale.

`run_lock(directory)` creates `directory/LOCK` holding "<host> <pid>",
atomically and exclusively (`s2l.atomic.create_text`: written to a temporary
file, then hard-linked to LOCK, which fails if LOCK exists), so two
trainings into one model_dir cannot both run and a lock is never seen
half-written. A lock left by a process that is no longer running on this
host is taken over with a warning; one held by a live process, or by another
host, is an error that names it. Directories on remote file systems
(gs://...) are not locked.
"""

import contextlib
import os
import socket
from typing import Iterator, Tuple

from absl import logging

from s2l import atomic

LOCK_FILE = "LOCK"


class LockedError(RuntimeError):
  """The run directory is being written by another process."""


def _me() -> str:
  return f"{socket.gethostname()} {os.getpid()}"


def _holder(path: str) -> Tuple[str, int]:
  """(host, pid) written in a lock file; ("", -1) if unreadable."""
  try:
    with open(path) as f:
      host, pid = f.read().split()
    return host, int(pid)
  except (OSError, ValueError):
    return "", -1


def _alive(pid: int) -> bool:
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True
  return True


def acquire(directory: str) -> str:
  """Takes the lock of `directory`; returns its path.

  Raises:
    LockedError: if a live process on this host, or a process on another
      host, holds it.
  """
  path = os.path.join(directory, LOCK_FILE)
  for _ in range(3):
    try:
      return atomic.create_text(path, _me())
    except FileExistsError:
      host, pid = _holder(path)
      if host == socket.gethostname() and pid == os.getpid():
        raise LockedError(f"{directory} is already being written by this "
                          "process.") from None
      if host == socket.gethostname() and not _alive(pid):
        logging.warning("Taking over %s: process %d, which held it, is no "
                        "longer running.", path, pid)
        with contextlib.suppress(FileNotFoundError):
          os.remove(path)
        continue
      # Empty or garbled: written by an s2l that created locks in place (a
      # process killed mid-write), or damaged.
      if not host:
        logging.warning("Taking over the unreadable lock %s.", path)
        with contextlib.suppress(FileNotFoundError):
          os.remove(path)
        continue
      raise LockedError(
          f"{directory} is being written by process {pid} on {host} (lock "
          f"{path}). Wait for it to finish, use another --model_dir, or, if "
          "that process is gone (another machine), delete the lock.") from None
  raise LockedError(f"Could not take {path}: other processes keep taking it.")


def release(path: str) -> None:
  """Removes the lock if this process holds it."""
  if _holder(path) == (socket.gethostname(), os.getpid()):
    with contextlib.suppress(FileNotFoundError):
      os.remove(path)


@contextlib.contextmanager
def run_lock(directory: str) -> Iterator[None]:
  """Holds the lock of `directory` for the duration of the block."""
  if "://" in directory:
    yield
    return
  path = acquire(directory)
  try:
    yield
  finally:
    release(path)
