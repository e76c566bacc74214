"""Embedded stand-in for something-something v2: shapes that move one way.

Section 3.2 of the paper pre-trains by reordering 20 frames sampled uniformly
along each video of something-something v2 and probes the frozen encoder on
its action labels, many of which name a direction ("Pulling something from
right to left"). This module holds `SyntheticVideo`, a TFDS builder
(`s2l_synthetic_video`) that renders a deterministic offline substitute on
first use, with the 'video', 'label' and 'id' features of
`s2l.datasets.something_something`.

The classes come in pairs of opposite motions (`reverse_class`): a clip of
one class played backwards shows the path of the other. Only frame order
tells a pair apart, which is what the reordering pretext task teaches; which
of the five kinds of motion a clip shows can be read from its frames without
their order. Every motion starts slowly and accelerates, as things do under
gravity or a push: this arrow of time is what makes the order of frames
recoverable at all (a time-symmetric data set, where each clip's reversal is
as likely as the clip, leaves every order ambiguous up to reversal, and the
pretext task does not learn). Played backwards, a clip decelerates, which no
clip of the data set does.

Each clip shows one saturated object (random shape, colour, size, speed
profile and start) over a static, low-saturation textured background with,
half of the time, a static dull distractor shape, under a per-frame
illumination flicker that the encoder must learn to ignore. `render_clip` is
the pure-numpy renderer.

    import s2l.datasets.synthetic_video  # Registers the builder.
    ds = tfds.load("s2l_synthetic_video", split="train", data_dir=...)
"""

import dataclasses
from typing import Dict

import numpy as np
import tensorflow_datasets as tfds

from s2l.datasets import embedded
from s2l.datasets.drawing import hsv_to_rgb
from s2l.datasets.drawing import shape_coverage
from s2l.datasets.drawing import smooth_noise

# Pairs (2k, 2k + 1) are time reversals of each other; the even one is drawn.
CLASS_NAMES = (
    "moving left to right", "moving right to left",
    "falling", "rising",
    "approaching", "receding",
    "appearing", "disappearing",
    "rotating clockwise", "rotating counterclockwise",
)
_KINDS = ("horizontal", "vertical", "scale", "fade", "rotation")
_SHAPES = ("disc", "square", "triangle", "cross", "star", "ring", "bar",
           "arrow", "key")
# Elongated, so the angle is clear, and without rotational symmetry, so a
# turn cannot be mistaken for its opposite.
_ROTATING_SHAPES = ("arrow", "key")
_DISTRACTOR_SHAPES = ("disc", "square", "triangle", "ring")


def reverse_class(label: int) -> int:
  """The class of a clip of class `label` played backwards."""
  if not 0 <= label < len(CLASS_NAMES):
    raise ValueError(f"label must be in [0, {len(CLASS_NAMES)}), got {label}.")
  return label ^ 1


def _profile(rng, num_frames):
  """[T] progress from 0 to 1, from rest and accelerating (t^p, p > 1)."""
  t = np.linspace(0.0, 1.0, num_frames)
  return t**rng.uniform(1.6, 2.6)


def _background(rng, height, width):
  """[H, W, 3] float static scene: tinted texture, gradient, distractor."""
  yy, xx = np.mgrid[0:height, 0:width].astype(np.float64) + 0.5
  base = hsv_to_rgb([rng.uniform(), rng.uniform(0.0, 0.15),
                     rng.uniform(0.35, 0.65)])
  angle = rng.uniform(0, 2 * np.pi)
  gradient = (np.cos(angle) * (xx / width - 0.5)
              + np.sin(angle) * (yy / height - 0.5))
  texture = (0.08 * smooth_noise(rng, height, width, 6)
             + 0.03 * smooth_noise(rng, height, width, 16)
             + rng.uniform(0.1, 0.3) * gradient)
  scene = base * (1 + texture)[..., None]
  if rng.uniform() < 0.5:
    size = min(height, width)
    radius = size * rng.uniform(0.1, 0.18)
    cx, cy = rng.uniform(radius, width - radius), rng.uniform(
        radius, height - radius)
    turn = rng.uniform(0, 2 * np.pi)
    dx, dy = xx - cx, yy - cy
    u = (np.cos(turn) * dx + np.sin(turn) * dy) / radius
    v = (-np.sin(turn) * dx + np.cos(turn) * dy) / radius
    shape = _DISTRACTOR_SHAPES[rng.integers(len(_DISTRACTOR_SHAPES))]
    alpha = shape_coverage(shape, u, v, 1.0 / radius)[..., None]
    # Dull and far in brightness from the background, so visible but never
    # mistaken for the saturated moving object.
    dull = hsv_to_rgb([rng.uniform(), rng.uniform(0.0, 0.15),
                       rng.choice([0.15, 0.9]) + rng.uniform(-0.05, 0.05)])
    scene = scene * (1 - alpha) + dull * alpha
  return scene


def _trajectory(kind, rng, num_frames, height, width, backward):
  """Per-frame centre x, y, radius, angle and opacity, each [T] float.

  `backward` runs the same path the other way (the pair's other class),
  still accelerating: progress goes from 1 to 0 as 1 − t^p.
  """
  size = min(height, width)
  progress = _profile(rng, num_frames)
  if backward:
    progress = 1.0 - progress
  ones = np.ones(num_frames)
  radius = size * rng.uniform(0.09, 0.14) * ones
  angle = rng.uniform(0, 2 * np.pi) * ones
  opacity = ones
  # A small random drift off the main motion, symmetric in direction.
  drift = size * rng.uniform(-0.06, 0.06, size=2)
  if kind in ("horizontal", "vertical"):
    along, across = (width, height) if kind == "horizontal" else (height, width)
    margin = radius[0]
    start = rng.uniform(margin, 0.4 * along)
    end = rng.uniform(max(start + 0.3 * along, 0.6 * along), along - margin)
    main = start + (end - start) * progress
    other = rng.uniform(margin + abs(drift[0]), across - margin - abs(drift[0]))
    other = other + drift[0] * progress
    x, y = (main, other) if kind == "horizontal" else (other, main)
  else:
    if kind == "scale":
      # Geometric, so every step scales by the same factor whatever the
      # size. At least 3.5 pixels, so the smallest is a shape, not a blur.
      first = max(size * rng.uniform(0.05, 0.08), 3.5)
      last = min(first * rng.uniform(2.2, 3.2), 0.3 * size)
      radius = first * (last / first)**progress
    elif kind == "fade":
      opacity = rng.uniform(0.0, 0.1) + rng.uniform(0.85, 0.9) * progress
    else:  # rotation; radians, y down: increasing angle turns clockwise.
      angle = angle + np.deg2rad(rng.uniform(120, 240)) * progress
      radius = size * rng.uniform(0.14, 0.2) * ones
    reach = radius.max() + np.abs(drift).max()
    cx = rng.uniform(min(reach, width / 2), max(width - reach, width / 2))
    cy = rng.uniform(min(reach, height / 2), max(height - reach, height / 2))
    x, y = cx + drift[0] * progress, cy + drift[1] * progress
  return x, y, radius, angle, opacity


def render_clip(label: int, num_frames: int, height: int, width: int,
                rng: np.random.Generator) -> np.ndarray:
  """Renders one clip of class `label`; a pure function of the generator state.

  Args:
    label: class id in [0, len(CLASS_NAMES)).
    num_frames: T >= 2.
    height, width: H, W >= 16.
    rng: numpy Generator; consumed.

  Returns:
    [T, H, W, 3] uint8 frames. For the same generator state, the clips of
    `label` and `reverse_class(label)` follow the same path in opposite
    directions, both accelerating.

  Raises:
    ValueError: for an unknown label or a size too small to draw.
  """
  reverse_class(label)  # Validates the label.
  if num_frames < 2 or height < 16 or width < 16:
    raise ValueError(f"Need num_frames >= 2 and height, width >= 16, got "
                     f"{num_frames}, {height}, {width}.")
  kind = _KINDS[label // 2]
  scene = _background(rng, height, width)
  x, y, radius, angle, opacity = _trajectory(kind, rng, num_frames, height,
                                             width, backward=label % 2 == 1)
  shapes = _ROTATING_SHAPES if kind == "rotation" else _SHAPES
  shape = shapes[rng.integers(len(shapes))]
  colour = hsv_to_rgb([rng.uniform(), rng.uniform(0.7, 1.0),
                       rng.uniform(0.7, 1.0)])
  flicker = rng.uniform(0.95, 1.05, size=num_frames)

  column = lambda a: a[:, None, None]
  yy, xx = np.mgrid[0:height, 0:width].astype(np.float64) + 0.5
  dx, dy = xx[None] - column(x), yy[None] - column(y)
  cos, sin, r = column(np.cos(angle)), column(np.sin(angle)), column(radius)
  u = (cos * dx + sin * dy) / r
  v = (-sin * dx + cos * dy) / r
  alpha = (shape_coverage(shape, u, v, 1.0 / r) * column(opacity))[..., None]
  frames = scene[None] * (1 - alpha) + colour * alpha
  frames *= flicker[:, None, None, None]
  frames = np.clip(np.round(frames * 255), 0, 255).astype(np.uint8)
  return frames


@dataclasses.dataclass(eq=False)
class SyntheticVideoConfig(tfds.core.BuilderConfig):
  """Clip size, split sizes and seed.

  Attributes:
    num_frames: T, frames per clip (the paper samples 20 along each video).
    height: H, frame height.
    width: W, frame width.
    counts: number of clips per split; labels cycle through the classes, so
      each class has the same count up to one.
    seed: clip i of split s is drawn from
      `embedded.example_rng(seed, s, i)`.
  """
  num_frames: int = 32
  height: int = 64
  width: int = 64
  counts: Dict[str, int] = dataclasses.field(
      default_factory=lambda: {"train": 2000, "validation": 250, "test": 250})
  seed: int = 0

  def __post_init__(self):
    if self.num_frames < 2 or self.height < 16 or self.width < 16:
      raise ValueError(f"Need num_frames >= 2 and height, width >= 16, got "
                       f"{self.num_frames}, {self.height}, {self.width}.")
    embedded.check_split_counts(self.counts)


class SyntheticVideo(tfds.core.GeneratorBasedBuilder):
  """Direction-of-motion clips, generated locally on first use."""

  name = "s2l_synthetic_video"
  VERSION = tfds.core.Version("1.1.0")
  RELEASE_NOTES = {
      "1.0.0": "Initial release.",
      "1.1.0": "Motions accelerate from rest, giving time an arrow: in 1.0.0 "
               "each clip's reversal was as likely as the clip, and frame "
               "order could not be learnt.",
  }
  BUILDER_CONFIGS = [
      SyntheticVideoConfig(
          name="default",
          description="32 frames of 64x64; 2000/250/250 clips."),
      SyntheticVideoConfig(
          name="tiny", num_frames=8, height=32, width=32,
          counts={"train": 20, "validation": 10, "test": 10},
          description="8 frames of 32x32; 20/10/10 clips, for tests."),
  ]

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    return self.dataset_info_from_configs(
        description=(
            "Synthetic clips of one shape moving, scaling, fading or "
            "rotating; classes come in time-reversed pairs."),
        features=tfds.features.FeaturesDict({
            # Arrays are encoded frame by frame without ffmpeg. JPEG, as in
            # s2l.datasets.something_something: several times smaller than PNG.
            "video": tfds.features.Video(
                shape=(config.num_frames, config.height, config.width, 3),
                dtype=np.uint8, encoding_format="jpeg"),
            "label": tfds.features.ClassLabel(names=CLASS_NAMES),
            "id": tfds.features.Text(),
        }),
        supervised_keys=("video", "label"),
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    del dl_manager  # Nothing to download.
    return {split: self._generate_examples(split)
            for split in embedded.SPLITS}

  def _generate_examples(self, split: str):
    config = self.builder_config
    for index in range(config.counts[split]):
      label = index % len(CLASS_NAMES)
      rng = embedded.example_rng(config.seed, split, index)
      video = render_clip(label, config.num_frames, config.height,
                          config.width, rng)
      key = f"{split}_{index:06d}"
      yield key, {"video": video, "label": label, "id": key}
