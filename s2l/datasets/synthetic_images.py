"""Embedded stand-in for ImageNet -> VOC 2012: shapes on structured scenes.

Section 3.3 of the paper pre-trains a CFN on 3x3 jigsaw puzzles of 128x128
ImageNet images and probes it with a linear multi-label classifier on VOC 2012
(mean AUC). This module holds `SyntheticImages`, a TFDS builder
(`s2l_synthetic_images`) that renders a deterministic offline substitute on
first use, with the features of `voc/2012` where they overlap ('image',
'labels', 'id') so one pipeline serves both.

Each image is a scene with global spatial structure, so a 3x3 jigsaw has a
unique answer that tile borders alone do not give away: a sky/ground split at
a random, slightly tilted horizon, a sky brightening towards the horizon, a
ground of perspective stripes that crowd towards the horizon, a global
illumination gradient in a random direction and pixel noise. On it lie 1 to 4
objects from `CLASS_NAMES`, at random positions, sizes and rotations, possibly
overlapping and crossing tile borders, among unlabelled clutter. A class is a
shape whose colour comes from two of five hue families, so colour alone does
not name it. `render_image` is the pure-numpy renderer.

The shape and colour primitives come from `s2l.datasets.drawing`, shared with
`s2l.datasets.synthetic_video`.

    import s2l.datasets.synthetic_images  # Registers the builder.
    ds = tfds.load("s2l_synthetic_images", split="train", data_dir=...)
"""

import dataclasses
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow_datasets as tfds

from s2l.datasets import embedded
from s2l.datasets.drawing import coverage as _coverage
from s2l.datasets.drawing import hsv_to_rgb
from s2l.datasets.drawing import signed_distance as _sdf
from s2l.datasets.drawing import smooth_noise

# A class is a shape. Its colour comes from one of two of five hue families,
# each family shared by four classes, so colour narrows a class down but only
# the outline names it.
CLASS_NAMES = ("disc", "cross", "square", "ring", "triangle", "bar", "star",
               "crescent", "arrow", "frame")
CLASS_SHAPES = CLASS_NAMES
FAMILY_HUES = (0.0, 0.15, 0.35, 0.6, 0.8)  # Red, yellow, green, blue, purple.
# Class 2i takes families i and i+1, class 2i+1 families i and i+2 (mod 5).
CLASS_HUES = tuple(
    (FAMILY_HUES[k // 2], FAMILY_HUES[(k // 2 + 1 + k % 2) % 5])
    for k in range(len(CLASS_NAMES)))
HUE_JITTER = 0.04  # Turns; well under half the 0.15 turn between families.
# VOC-like: mostly one or two objects.
_NUM_OBJECTS_P = (0.35, 0.3, 0.2, 0.15)


def _scene(rng, size):
  """[size, size, 3] float background with sky, ground and lighting."""
  yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
  tilt = np.tan(rng.uniform(-0.12, 0.12))
  horizon = size * rng.uniform(0.3, 0.7) + tilt * (xx - size / 2)
  # Low saturation keeps the scene from competing with the objects' colours.
  sky_rgb = hsv_to_rgb([rng.uniform(0.5, 0.7), rng.uniform(0.05, 0.3),
                        rng.uniform(0.6, 0.9)])
  ground_rgb = hsv_to_rgb([rng.uniform(0.05, 0.3), rng.uniform(0.1, 0.35),
                           rng.uniform(0.3, 0.6)])
  above = np.clip((horizon - yy) / size, 0.0, 1.0)  # 0 at the horizon.
  sky = sky_rgb * (1.1 - 0.5 * above)[..., None]
  sky += 0.04 * smooth_noise(rng, size, size, 4)[..., None]  # Clouds.
  # Ground coordinates in perspective: depth ~ 1 / (distance below horizon),
  # so stripes crowd towards the horizon and converge to a vanishing point.
  below = np.maximum(yy - horizon, 0.0) / size + 0.02
  depth = 1.0 / below
  vanish = size * rng.uniform(0.2, 0.8)
  lateral = (xx - vanish) / size / below
  fade = np.clip(below * 8, 0.0, 1.0)  # No aliasing mush at the horizon.
  stripes = (np.sin(rng.uniform(1.0, 2.0) * depth)
             * np.sin(rng.uniform(2.0, 5.0) * lateral + rng.uniform(0, 6.3)))
  ground = ground_rgb * (1 + 0.25 * fade * stripes)[..., None]
  edge = np.clip(yy - horizon + 0.5, 0.0, 1.0)[..., None]
  scene = (1 - edge) * sky + edge * ground
  angle = rng.uniform(0, 2 * np.pi)
  light = (np.cos(angle) * (xx - size / 2) + np.sin(angle) * (yy - size / 2))
  scene *= (1 + rng.uniform(0.2, 0.4) * light / size)[..., None]
  return scene


def _draw(image, xx, yy, centre, radius, angle, sdf, rgb):
  """Composites a shape over `image`: [S, S, 3] float -> [S, S, 3] float.

  Args:
    image: [S, S, 3] float canvas.
    xx, yy: [S, S] pixel-centre coordinates.
    centre, radius, angle: placement of the shape's unit disc.
    sdf: (u, v) -> signed distance in units of the radius.
    rgb: [3] or [S, S, 3] colour.
  """
  dx, dy = xx - centre[0], yy - centre[1]
  u = (np.cos(angle) * dx + np.sin(angle) * dy) / radius
  v = (-np.sin(angle) * dx + np.cos(angle) * dy) / radius
  alpha = _coverage(sdf(u, v), 1.0 / radius)[..., None]
  return image * (1 - alpha) + rgb * alpha


def _clutter(rng, image, size):
  """Draws 0-3 unlabelled ellipses of any saturated colour on the scene.

  Like the unlabelled things in VOC photos, they make a colour histogram a
  poor guess of the labels: the outline has to be seen too.
  """
  yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
  for _ in range(rng.integers(4)):
    aspect = rng.uniform(0.3, 0.5)  # Never round enough to pass for a disc.
    ellipse = lambda u, v, a=aspect: (np.hypot(u, v / a) - 1.0) * a
    rgb = hsv_to_rgb([rng.uniform(), rng.uniform(0.6, 1.0),
                      rng.uniform(0.6, 1.0)])
    image = _draw(image, xx, yy, rng.uniform(0, size, size=2),
                  size * rng.uniform(0.09, 0.2), rng.uniform(0, np.pi),
                  ellipse, rgb)
  return image


def _place(rng, size, radius, placed):
  """A centre for a new object that leaves earlier ones partly visible."""
  for _ in range(20):
    centre = rng.uniform(0.6 * radius, size - 0.6 * radius, size=2)
    # Centres further apart than the larger radius (plus a margin) keep
    # every object's middle uncovered.
    if all(np.hypot(*(centre - c)) > max(r, radius) + 0.3 * min(r, radius)
           for c, r in placed):
      return centre
  return None


def render_image(rng: np.random.Generator, size: int,
                 classes: Optional[Sequence[int]] = None
                 ) -> Tuple[np.ndarray, List[int]]:
  """Renders one scene with objects; a pure function of the generator state.

  The scene (noise included) is drawn from `rng` before the objects, so two
  generators in the same state give the same scene whatever `classes` says.

  Args:
    rng: numpy Generator; consumed.
    size: S, image height and width (>= 16).
    classes: ids in [0, len(CLASS_NAMES)) of the objects to draw, in drawing
      order; None draws 1-4 objects of random classes. An empty list gives the
      bare scene.

  Returns:
    (image, labels): image [S, S, 3] uint8 and the sorted distinct class ids of
    the objects drawn. An object that finds no free place is not drawn and
    not labelled (rare, only with 4 large objects).

  Raises:
    ValueError: for a size below 16 or an unknown class id.
  """
  if size < 16:
    raise ValueError(f"size must be >= 16, got {size}.")
  if classes is not None:
    bad = [c for c in classes if not 0 <= c < len(CLASS_NAMES)]
    if bad:
      raise ValueError(f"Class ids {bad} not in [0, {len(CLASS_NAMES)}).")
  image = _clutter(rng, _scene(rng, size), size)
  noise = rng.normal(0.0, 0.015, image.shape)  # Drawn with the scene.
  if classes is None:
    count = rng.choice(len(_NUM_OBJECTS_P), p=_NUM_OBJECTS_P) + 1
    classes = rng.integers(len(CLASS_NAMES), size=count).tolist()
  yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
  placed, labels = [], set()
  for label in classes:
    radius = size * rng.uniform(0.09, 0.2)
    angle = rng.uniform(0, 2 * np.pi)
    hue = CLASS_HUES[label][rng.integers(2)]
    hsv = [(hue + rng.uniform(-HUE_JITTER, HUE_JITTER)) % 1.0,
           rng.uniform(0.6, 1.0), rng.uniform(0.6, 1.0)]
    stripe = rng.uniform(0.25, 0.6) * radius, rng.uniform(0, np.pi)
    centre = _place(rng, size, radius, placed)
    if centre is None:
      continue
    placed.append((centre, radius))
    labels.add(int(label))
    # Stripes and shading vary brightness only, so the hue stays the class's.
    dx, dy = xx - centre[0], yy - centre[1]
    across = np.cos(stripe[1]) * dx + np.sin(stripe[1]) * dy
    value = np.where(np.sin(np.pi * across / stripe[0]) > 0, 1.0, 0.8)
    value = value * (1 - 0.15 * (dx + dy) / (2 * radius))
    colour = hsv_to_rgb(hsv) * value[..., None]
    sdf = lambda u, v, shape=CLASS_SHAPES[label]: _sdf(shape, u, v)
    image = _draw(image, xx, yy, centre, radius, angle, sdf, colour)
  image += noise
  image = np.clip(np.round(image * 255), 0, 255).astype(np.uint8)
  return image, sorted(labels)


@dataclasses.dataclass(eq=False)
class SyntheticImagesConfig(tfds.core.BuilderConfig):
  """Image size, split sizes and seed.

  Attributes:
    size: S, image height and width (the paper uses 128).
    counts: number of images per split.
    seed: image i of split s is drawn from
      `embedded.example_rng(seed, s, i)`.
  """
  size: int = 128
  counts: Dict[str, int] = dataclasses.field(
      default_factory=lambda: {"train": 4000, "validation": 500, "test": 500})
  seed: int = 0

  def __post_init__(self):
    if self.size < 16:
      raise ValueError(f"size must be >= 16, got {self.size}.")
    embedded.check_split_counts(self.counts)


class SyntheticImages(tfds.core.GeneratorBasedBuilder):
  """Shapes on structured scenes, generated locally on first use."""

  name = "s2l_synthetic_images"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Initial release."}
  BUILDER_CONFIGS = [
      SyntheticImagesConfig(
          name="default",
          description="128x128 as in the paper; 4000/500/500 images."),
      SyntheticImagesConfig(
          name="tiny", size=48,
          counts={"train": 24, "validation": 8, "test": 8},
          description="48x48, 24/8/8 images, for tests."),
  ]

  def _info(self) -> tfds.core.DatasetInfo:
    size = self.builder_config.size
    return self.dataset_info_from_configs(
        description=(
            "Synthetic multi-label images: 1-4 coloured shapes on scenes "
            "with a horizon, perspective ground and global lighting."),
        features=tfds.features.FeaturesDict({
            # JPEG as in ImageNet and VOC; several times smaller than PNG on
            # noisy scenes.
            "image": tfds.features.Image(shape=(size, size, 3),
                                         encoding_format="jpeg"),
            "labels": tfds.features.Sequence(
                tfds.features.ClassLabel(names=CLASS_NAMES)),
            "id": tfds.features.Text(),
        }),
        supervised_keys=None,
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    del dl_manager  # Nothing to download.
    return {split: self._generate_examples(split)
            for split in embedded.SPLITS}

  def _generate_examples(self, split: str):
    config = self.builder_config
    for index in range(config.counts[split]):
      rng = embedded.example_rng(config.seed, split, index)
      image, labels = render_image(rng, config.size)
      key = f"{split}_{index:06d}"
      yield key, {"image": image, "labels": labels, "id": key}
