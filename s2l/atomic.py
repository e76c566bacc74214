"""Files that readers depend on, written whole or not at all.

A preempted or killed process must not leave `run.json`, `probe.json`,
`experiment.json`, a run's lock or a report half-written. Each is written
to a temporary file in its own folder, flushed to disk (`os.fsync`), then
renamed onto its name (`os.replace`, atomic on POSIX within one file
system), as TensorFlow's checkpoint manager does. A reader sees the old
version or the new one, never a mix:

    atomic.write_json(path, report, indent=2)
    atomic.write_text(path, markdown)
    with atomic.replacing(path) as temp:   # writers that want a path
      fig.savefig(temp, format="png")
    atomic.create_text(lock, "host 123")   # atomic and exclusive

Temporary files are named `.<name>.tmp-<pid>-<8 hex digits>` beside the
target: hidden, unique per process and call, and never ending in the
target's extension, so that `glob("*.json")` and the like skip them. After
an exception they are removed; after SIGKILL or a power cut between the
write and the rename one can remain (its content complete or not). Readers
ignore such names; deleting them is always safe.

Paths with a scheme (`gs://...`) are written with a plain `tf.io.gfile`
write instead: object stores have no rename, and their objects appear
whole when the upload completes.
"""

import contextlib
import errno
import json
import os
import secrets
from typing import Any, Iterator

TEMP_MARK = ".tmp-"


def is_remote(path: str) -> bool:
  """Whether `path` names a file system with a scheme (gs://, s3://...)."""
  return "://" in path


def temp_path(path: str) -> str:
  """A fresh temporary name beside `path`: `.<name>.tmp-<pid>-<hex>`."""
  folder, name = os.path.split(path)
  return os.path.join(
      folder, f".{name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")


def is_temp(path: str) -> bool:
  """Whether `path` is one of `temp_path`'s names (a leftover to ignore)."""
  name = os.path.basename(path)
  return name.startswith(".") and TEMP_MARK in name


def _sync(path: str) -> None:
  """Flushes a closed file's data to disk."""
  fd = os.open(path, os.O_RDONLY)
  try:
    os.fsync(fd)
  finally:
    os.close(fd)


def _sync_folder(folder: str) -> None:
  """Makes a rename in `folder` durable (best effort: not every OS can)."""
  try:
    _sync(folder or ".")
  except OSError:
    pass


def _remove(path: str) -> None:
  with contextlib.suppress(FileNotFoundError):
    os.remove(path)


@contextlib.contextmanager
def replacing(path: str) -> Iterator[str]:
  """Yields a temporary path that becomes `path` if the block succeeds.

  The block writes the whole file to the yielded path (in `path`'s folder)
  and closes it; the file is then synced and renamed onto `path`. If the
  block raises, the temporary file is removed, `path` is left as it was and
  the exception propagates.

  Args:
    path: the file to write. A remote path (with "://") is yielded as is:
      the block writes it directly, without the rename.

  Yields:
    The path to write.

  Raises:
    FileNotFoundError: if the block wrote nothing at the yielded path, or
      `path`'s folder does not exist.
  """
  if is_remote(path):
    yield path
    return
  temp = temp_path(path)
  try:
    yield temp
    _sync(temp)
    os.replace(temp, path)
  except BaseException:
    _remove(temp)
    raise
  _sync_folder(os.path.dirname(path))


def write_text(path: str, text: str) -> str:
  """Writes `text` (UTF-8) to `path` atomically; returns `path`.

  Args:
    path: a local path, or a remote one (gs://...), which is written with a
      plain `tf.io.gfile` write.
    text: the whole content.
  """
  if is_remote(path):
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    with tf.io.gfile.GFile(path, "w") as f:
      f.write(text)
    return path
  with replacing(path) as temp:
    with open(temp, "x", encoding="utf-8") as f:
      f.write(text)
  return path


def write_json(path: str, obj: Any, **json_kwargs) -> str:
  """Writes `obj` as JSON to `path` atomically; returns `path`.

  Args:
    path: as for `write_text`.
    obj: anything `json.dumps` takes. It is serialised before any file is
      touched, so an unserialisable value leaves `path` as it was.
    **json_kwargs: passed to `json.dumps` (`indent=2`, `sort_keys=True`...).

  Raises:
    TypeError: if `obj` is not JSON-serialisable.
  """
  return write_text(path, json.dumps(obj, **json_kwargs))


def create_text(path: str, text: str) -> str:
  """Creates `path` holding `text`, atomically and only if it is absent.

  The text goes to a temporary file, which is then hard-linked to `path`:
  the link fails if `path` exists, and when it succeeds `path` appears with
  its whole content. A lock file made so is never seen empty or partial.
  On a file system without hard links, `path` is created exclusively and
  then written (exclusive, but not atomic).

  Args:
    path: a local path.
    text: the whole content.

  Returns:
    `path`.

  Raises:
    FileExistsError: if `path` exists.
  """
  temp = temp_path(path)
  try:
    with open(temp, "x", encoding="utf-8") as f:
      f.write(text)
    _sync(temp)
    try:
      os.link(temp, path)  # FileExistsError (EEXIST) if `path` exists.
    except OSError as e:
      if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP,
                         errno.ENOSYS):
        raise
      with open(path, "x", encoding="utf-8") as f:
        f.write(text)
  finally:
    _remove(temp)
  _sync_folder(os.path.dirname(path))
  return path
