"""What the embedded (generated) TFDS builders share: splits and seeding.

`synthetic_notes`, `synthetic_video` and `synthetic_images` generate every
example as a pure function of (config seed, split, index), so a data set is
the same on every machine and any example can be regenerated alone.
"""

from typing import Dict

import numpy as np

SPLITS = ("train", "validation", "test")


def example_rng(seed: int, split: str, index: int) -> np.random.Generator:
  """The generator of example `index` of `split`: [seed, split's position, index]."""
  return np.random.default_rng([seed, SPLITS.index(split), index])


def check_split_counts(counts: Dict[str, int]) -> None:
  """Raises ValueError unless counts gives a positive size to every split."""
  if sorted(counts) != sorted(SPLITS) or min(counts.values()) < 1:
    raise ValueError(f"counts must give a positive count for each of "
                     f"{SPLITS}, got {counts}.")
