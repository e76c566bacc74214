"""Argument checks shared by `train`, `evaluate` and the losses.

Each failure is a ValueError that names the argument as its config does
(`train.batch_size`, `SoftRankLoss.regularization_strength`) and the value.
"""

import math


def is_integer(value, minimum: int) -> bool:
  """An int (not a bool) of at least `minimum`."""
  return (isinstance(value, int) and not isinstance(value, bool) and
          value >= minimum)


def is_number(value) -> bool:
  """A finite int or float (not a bool)."""
  return (isinstance(value, (int, float)) and not isinstance(value, bool) and
          math.isfinite(value))


def require(owner: str, name: str, value, ok: bool, expected: str) -> None:
  """Raises ValueError("<owner>.<name> must be <expected>, got <value>.")
  unless `ok`."""
  if not ok:
    raise ValueError(f"{owner}.{name} must be {expected}, got {value!r}.")


def positive(owner: str, name: str, value, integer: bool = False) -> None:
  """Requires a positive integer (or number) for `owner.name`."""
  if integer:
    require(owner, name, value, is_integer(value, 1), "a positive integer")
  else:
    require(owner, name, value, is_number(value) and value > 0,
            "a positive number")
