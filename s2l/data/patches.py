"""Slicing inputs into the patches of the pretext task (paper sections 2.1, 2.3).

Slicing is set by `nx` (columns) and `ny` (rows). On a spectrogram image
`[freq, time, 1]` (see `frontends`), `ny` > 1 with `nx` = 1 gives frequency
bands (horizontal stripes), `nx` > 1 with `ny` = 1 time frames (vertical
stripes), and both > 1 time-frequency tiles; on an image, an `ny` × `nx`
jigsaw grid. A video's frames are its patches already.

Patches are listed row by row (patch `r * nx + c` is row r, column c) and share
one shape, so an input becomes `[n, *patch_shape]` with n = nx · ny. A side
that does not divide evenly is cropped at its end.
"""

import dataclasses

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class Slicing:
  """How an image-like input is cut into patches.

  Attributes:
    nx: columns (time slices, on a spectrogram).
    ny: rows (frequency bands, on a spectrogram).
    gap: pixels left out between neighbouring tiles: each patch is a
      (tile − gap) crop of its tile, so the network cannot solve the puzzle
      from edge continuity (as in jigsaw methods). 0 for spectrograms.
    jitter: place each crop at a random offset within its tile (in [0, gap]
      on each axis) instead of the tile's centre. Needs gap > 0 and a seed.
    normalize: standardise each patch to zero mean and unit variance, so
      that per-tile colour or loudness statistics do not give the order away.
  """
  nx: int = 1
  ny: int = 10
  gap: int = 0
  jitter: bool = False
  normalize: bool = True

  def __post_init__(self):
    if self.nx < 1 or self.ny < 1:
      raise ValueError(f"nx and ny must be >= 1, got nx={self.nx}, "
                       f"ny={self.ny}.")
    if self.nx * self.ny < 2:
      raise ValueError("a permutation pretext task needs at least 2 patches;"
                       f" got nx={self.nx}, ny={self.ny}.")
    if self.gap < 0:
      raise ValueError(f"gap must be >= 0, got {self.gap}.")
    if self.jitter and self.gap == 0:
      raise ValueError("jitter moves crops within the gap: set gap > 0.")

  @property
  def num_patches(self) -> int:
    return self.nx * self.ny


def grid_patches(image: tf.Tensor, slicing: Slicing, seed=None) -> tf.Tensor:
  """Cuts an image-like tensor into an ny × nx grid of equal patches.

  Without jitter the crops are fixed slices, so a batch of inputs (the
  in-model front end, `s2l.data.model_inputs`) is cut exactly as each of its
  examples would be alone.

  Args:
    image: [..., H, W, C] with static H and W; a single [H, W, C] input when
      the slicing jitters (each example draws its own offsets).
    slicing: grid, gap and jitter.
    seed: stateless seed ([2] int) for the jitter; unused otherwise.

  Returns:
    [..., ny * nx, (H // ny) − gap, (W // nx) − gap, C], row-major order.

  Raises:
    ValueError: if a tile would be smaller than one pixel, or a batch is
      jittered.
  """
  image = tf.convert_to_tensor(image)
  if image.shape.rank is None or image.shape.rank < 3:
    raise ValueError(f"grid_patches needs [..., H, W, C] inputs, got shape "
                     f"{image.shape}.")
  height, width = image.shape[-3], image.shape[-2]
  if height is None or width is None:
    raise ValueError(f"grid_patches needs static height and width, got "
                     f"{image.shape}; resize or crop to a fixed size first.")
  tile_h, tile_w = height // slicing.ny, width // slicing.nx
  patch_h, patch_w = tile_h - slicing.gap, tile_w - slicing.gap
  if patch_h < 1 or patch_w < 1:
    raise ValueError(
        f"an input of {height}x{width} cut into ny={slicing.ny} rows and "
        f"nx={slicing.nx} columns with gap={slicing.gap} leaves no pixels per"
        " patch; use fewer patches or a smaller gap.")
  if not slicing.jitter:
    margin = slicing.gap // 2
    return tf.stack([
        image[..., row * tile_h + margin:row * tile_h + margin + patch_h,
              col * tile_w + margin:col * tile_w + margin + patch_w, :]
        for row in range(slicing.ny) for col in range(slicing.nx)], axis=-4)
  if image.shape.rank != 3:
    raise ValueError(f"jittered patches are cut one [H, W, C] input at a "
                     f"time, got shape {image.shape}.")
  if seed is None:
    raise ValueError("jittered patches need a stateless seed.")
  offsets = tf.random.stateless_uniform(
      [slicing.num_patches, 2], seed, 0, slicing.gap + 1, dtype=tf.int32)
  patches = []
  for row in range(slicing.ny):
    for col in range(slicing.nx):
      offset = offsets[row * slicing.nx + col]
      patches.append(tf.slice(
          image, [row * tile_h + offset[0], col * tile_w + offset[1], 0],
          [patch_h, patch_w, -1]))
  return tf.stack(patches)


def normalize_patches(patches: tf.Tensor, epsilon: float = 1e-5) -> tf.Tensor:
  """Standardises each patch of [..., n, h, w, C] over its [h, w, C]."""
  mean, variance = tf.nn.moments(patches, [-3, -2, -1], keepdims=True)
  return (patches - mean) * tf.math.rsqrt(variance + epsilon)
