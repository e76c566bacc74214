"""Tests for s2l/datasets/drawing.py."""

import numpy as np
import pytest

from s2l.datasets import drawing


def test_hsv_primaries():
  np.testing.assert_allclose(drawing.hsv_to_rgb([0.0, 1.0, 1.0]), [1, 0, 0])
  np.testing.assert_allclose(drawing.hsv_to_rgb([1 / 3, 1.0, 1.0]), [0, 1, 0])
  np.testing.assert_allclose(drawing.hsv_to_rgb([2 / 3, 1.0, 0.5]),
                             [0, 0, 0.5])
  np.testing.assert_allclose(drawing.hsv_to_rgb([0.3, 0.0, 0.7]), [0.7] * 3)


@pytest.mark.parametrize("shape", drawing.SHAPES)
def test_every_shape_lies_within_its_documented_radius(shape):
  v, u = np.mgrid[-1.5:1.5:301j, -1.5:1.5:301j]
  inside = drawing.signed_distance(shape, u, v) < 0
  assert inside.mean() > 0.05  # a visible shape, not a speck
  assert not inside[np.hypot(u, v) > 1.1].any()


def test_coverage_is_antialiased_at_the_edge():
  # A disc of radius 1: full inside, empty outside, half on the boundary.
  pixel = 0.1
  got = drawing.shape_coverage("disc", np.array([0.0, 1.0, 2.0]),
                               np.zeros(3), pixel)
  np.testing.assert_allclose(got, [1.0, 0.5, 0.0])
  with pytest.raises(ValueError, match="Unknown shape"):
    drawing.signed_distance("hexagon", np.zeros(1), np.zeros(1))


def test_smooth_noise_is_smooth_and_seeded():
  a = drawing.smooth_noise(np.random.default_rng(0), 40, 30, 4)
  assert a.shape == (40, 30)
  np.testing.assert_array_equal(
      a, drawing.smooth_noise(np.random.default_rng(0), 40, 30, 4))
  # Neighbouring pixels differ far less than the noise itself varies.
  assert np.abs(np.diff(a, axis=0)).mean() < 0.2 * a.std()
