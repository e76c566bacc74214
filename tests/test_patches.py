"""Tests for s2l/data/patches.py."""

import numpy as np
import pytest
import tensorflow as tf

from s2l.data import patches as patches_lib

Slicing = patches_lib.Slicing


def _image(h, w, c=1):
  return tf.reshape(tf.range(h * w * c, dtype=tf.float32), [h, w, c])


def test_grid_is_row_major_and_exact():
  image = _image(6, 8)
  got = patches_lib.grid_patches(image, Slicing(nx=2, ny=3, normalize=False))
  assert got.shape == (6, 2, 4, 1)
  for row in range(3):
    for col in range(2):
      np.testing.assert_array_equal(
          got[row * 2 + col].numpy(),
          image.numpy()[2 * row:2 * row + 2, 4 * col:4 * col + 4])


def test_frequency_bands_time_frames_and_tiles_of_a_spectrogram():
  spectrogram = _image(80, 250)  # [freq, time, 1]
  bands = patches_lib.grid_patches(spectrogram, Slicing(nx=1, ny=10))
  assert bands.shape == (10, 8, 250, 1)  # horizontal stripes
  np.testing.assert_array_equal(bands[3].numpy(), spectrogram[24:32].numpy())
  frames = patches_lib.grid_patches(spectrogram, Slicing(nx=10, ny=1))
  assert frames.shape == (10, 80, 25, 1)  # vertical stripes
  np.testing.assert_array_equal(frames[2].numpy(),
                                spectrogram[:, 50:75].numpy())
  tiles = patches_lib.grid_patches(spectrogram, Slicing(nx=3, ny=3))
  assert tiles.shape == (9, 26, 83, 1)  # remainders cropped at the end


def test_gap_and_jitter():
  image = _image(30, 30)
  centred = patches_lib.grid_patches(image, Slicing(nx=3, ny=3, gap=4,
                                                    normalize=False))
  assert centred.shape == (9, 6, 6, 1)
  np.testing.assert_array_equal(centred[4].numpy(), image[12:18, 12:18])
  slicing = Slicing(nx=3, ny=3, gap=4, jitter=True, normalize=False)
  a = patches_lib.grid_patches(image, slicing, seed=[1, 2]).numpy()
  b = patches_lib.grid_patches(image, slicing, seed=[1, 2]).numpy()
  c = patches_lib.grid_patches(image, slicing, seed=[1, 3]).numpy()
  np.testing.assert_array_equal(a, b)
  assert not np.array_equal(a, c)
  values = image.numpy()[..., 0]
  for k, patch in enumerate(a):
    top, left = divmod(int(patch[0, 0, 0]), 30)
    row, col = divmod(k, 3)
    assert 10 * row <= top <= 10 * row + 4 and 10 * col <= left <= 10 * col + 4
    np.testing.assert_array_equal(patch[..., 0],
                                  values[top:top + 6, left:left + 6])


def test_errors_name_the_problem():
  with pytest.raises(ValueError, match="at least 2 patches"):
    Slicing(nx=1, ny=1)
  with pytest.raises(ValueError, match="set gap > 0"):
    Slicing(nx=2, ny=2, jitter=True)
  with pytest.raises(ValueError, match="leaves no pixels"):
    patches_lib.grid_patches(_image(8, 8), Slicing(nx=1, ny=10))
