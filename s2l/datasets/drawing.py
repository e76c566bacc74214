"""Drawing primitives of the embedded image and video data sets.

Shapes as signed distance functions in units of their radius (every shape
lies within 1.1 radii of its centre; the corners of the square shapes reach
past the unit disc), anti-aliased coverage, HSV colours and smooth noise
textures, in plain numpy. `synthetic_images` and `synthetic_video` render
their scenes with them (paper sections 3.2, 3.3 have the real data sets these
stand in for).
"""

import numpy as np

SHAPES = ("disc", "ring", "square", "frame", "triangle", "cross", "bar",
          "star", "crescent", "arrow", "key")


def hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
  """[..., 3] HSV in [0, 1] (hue in turns) -> [..., 3] RGB in [0, 1]."""
  hsv = np.asarray(hsv, np.float64)
  h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
  k = (np.array([5.0, 3.0, 1.0]) + 6.0 * h[..., None]) % 6.0
  return v[..., None] - v[..., None] * s[..., None] * np.clip(
      np.minimum(k, 4.0 - k), 0.0, 1.0)


def _box(u, v, half_u, half_v):
  """Signed distance (approximate outside corners) to an axis-aligned box."""
  return np.maximum(np.abs(u) - half_u, np.abs(v) - half_v)


def _disc(u, v, cu, cv, radius):
  return np.hypot(u - cu, v - cv) - radius


def _convex(u, v, planes):
  """Intersection of half-planes {(u, v) . (nu, nv) <= offset}, unit normals."""
  return np.max([u * nu + v * nv - offset for nu, nv, offset in planes],
                axis=0)


def signed_distance(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
  """Signed distance to `shape` in units of its radius (negative inside).

  Every shape lies within 1.1 of the origin (the unit disc, but for the
  corners of square shapes); the non-convex ones are exact only up to
  the slope near corners, which anti-aliasing over a pixel does not notice.
  """
  if shape == "disc":
    return np.hypot(u, v) - 1.0
  if shape == "ring":
    return np.abs(np.hypot(u, v) - 0.7) - 0.3
  if shape == "square":
    return _box(u, v, 0.75, 0.75)
  if shape == "frame":
    return np.abs(_box(u, v, 0.6, 0.6)) - 0.17
  if shape == "triangle":
    # Equilateral, circumradius 1, pointing to -v (up on screen).
    return _convex(u, v, [(np.cos(a), np.sin(a), 0.5)
                          for a in np.pi / 2 + 2 * np.pi / 3 * np.arange(3)])
  if shape == "cross":
    return np.minimum(_box(u, v, 0.95, 0.3), _box(u, v, 0.3, 0.95))
  if shape == "bar":
    return _box(u, v, 1.0, 0.25)
  if shape == "star":
    # Five points: the boundary radius swings between 0.42 and 1.
    phi = np.arctan2(v, u)
    return np.hypot(u, v) - (0.42 + 0.58 * ((1 + np.cos(5 * phi)) / 2)**2)
  if shape == "crescent":
    return np.maximum(np.hypot(u, v) - 1.0, 0.8 - np.hypot(u - 0.5, v))
  if shape == "arrow":
    # Shaft to the left, head pointing to +u: no symmetry but the u axis.
    head = _convex(u, v, [(-1.0, 0.0, -0.2), (0.6, 0.8, 0.6),
                          (0.6, -0.8, 0.6)])
    return np.minimum(_box(u + 0.4, v, 0.6, 0.18), head)
  if shape == "key":
    return np.minimum(_box(u + 0.3, v, 0.7, 0.16), _disc(u, v, 0.65, 0.0, 0.35))
  raise ValueError(f"Unknown shape {shape!r}; valid: {SHAPES}.")


def shape_coverage(shape: str, u: np.ndarray, v: np.ndarray,
                   pixel: np.ndarray) -> np.ndarray:
  """Anti-aliased coverage of a shape over a grid of local coordinates.

  Args:
    shape: one of `SHAPES`.
    u, v: broadcastable arrays of pixel centres in the shape's frame, in
      units of its radius (the shape lies within 1.1 of the origin).
    pixel: broadcastable size of one pixel in the same units (1 / radius).

  Returns:
    float64 coverage in [0, 1], the broadcast shape of `u`, `v`, `pixel`.
  """
  return coverage(signed_distance(shape, u, v), pixel)


def coverage(distance: np.ndarray, pixel: np.ndarray) -> np.ndarray:
  """Area of a pixel inside, linear in its centre's signed distance."""
  return np.clip(0.5 - distance / pixel, 0.0, 1.0)


def smooth_noise(rng: np.random.Generator, height: int, width: int,
                 cells: int) -> np.ndarray:
  """[height, width] bilinear upsampling of a (cells+1)^2 grid of N(0, 1)."""
  grid = rng.standard_normal((cells + 1, cells + 1))
  y = np.linspace(0, cells, height)
  x = np.linspace(0, cells, width)
  y0 = np.minimum(y.astype(int), cells - 1)
  x0 = np.minimum(x.astype(int), cells - 1)
  fy, fx = (y - y0)[:, None], (x - x0)[None, :]
  g = lambda dy, dx: grid[(y0 + dy)[:, None], (x0 + dx)[None, :]]
  return ((1 - fy) * ((1 - fx) * g(0, 0) + fx * g(0, 1))
          + fy * ((1 - fx) * g(1, 0) + fx * g(1, 1)))
