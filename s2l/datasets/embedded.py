"""What the embedded (generated) TFDS builders share: splits, seeding, audio.

`synthetic_notes`, `soundfont_notes`, `synthetic_video` and
`synthetic_images` generate every example as a pure function of (config seed,
split, index), so a data set is the same on every machine and any example can
be regenerated alone. The two note data sets store audio as NSynth does,
16-bit PCM (`to_pcm16`, `RawAudio`).
"""

from typing import Dict

import numpy as np
import tensorflow_datasets as tfds

SPLITS = ("train", "validation", "test")


def example_rng(seed: int, split: str, index: int) -> np.random.Generator:
  """The generator of example `index` of `split`: [seed, split's position, index]."""
  return np.random.default_rng([seed, SPLITS.index(split), index])


def check_split_counts(counts: Dict[str, int]) -> None:
  """Raises ValueError unless counts gives a positive size to every split."""
  if sorted(counts) != sorted(SPLITS) or min(counts.values()) < 1:
    raise ValueError(f"counts must give a positive count for each of "
                     f"{SPLITS}, got {counts}.")


def to_pcm16(audio: np.ndarray) -> np.ndarray:
  """float32 in [-1, 1] to 16-bit PCM, the format of NSynth's recordings."""
  return np.round(np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)


class RawAudio(tfds.features.Audio):
  """`tfds.features.Audio` stored as raw bytes, read back as the same tensor.

  Writing 64k samples as a numeric list took ~60 ms per note under the
  pure-Python protobuf of the former pin, most of the build; the bytes are
  the stored format of the embedded audio sets (changing it changes their
  files). Stock `Audio` passes numpy arrays through without applying its
  `encoding`, hence this subclass.
  """

  def __init__(self, **kwargs):
    super().__init__(encoding=tfds.features.Encoding.BYTES, **kwargs)

  def encode_example(self, audio):
    """Returns the raw bytes of audio, [num_samples] int16."""
    return tfds.features.Tensor.encode_example(self, np.asarray(audio))
