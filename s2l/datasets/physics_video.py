"""Embedded stand-in for something-something v2 whose frame order is
determined: things that fall, bounce, slide, fill, break and swing.

Section 3.2 of the paper pre-trains by reordering 20 frames sampled along
each video of something-something v2. Many of its actions cannot be played
backwards: dropping, pouring, tearing, something running out of energy. A
motion that looks as plausible reversed (a push to the left is a push to
the right played backwards) leaves its frame order ambiguous, and the
pretext task has nothing to learn from it. Every clip here is irreversible:

| class (something-something's templates) | what fixes the order |
|---|---|
| Dropping something onto a surface | falls from rest, bounces lower each time (restitution < 1), comes to rest |
| Pushing something so that it slides to a stop | fast at first, slower and slower (friction), then still |
| Pouring something into something | the level only rises; the stream stops before the end |
| Dropping something so that it breaks | one piece falls, two pieces leave the impact and slide to rest |
| Something swinging to a stop | a pendulum whose swings shrink (damping) |
| Letting something roll down a slanted surface | from rest, faster down the slope, then slower along the floor |

Played backwards, each shows energy appear from nowhere.

A second label, the pace, needs the motion itself: whether the clip's one
pace constant lies in the quicker half of its range (bounce restitution
below 0.55, a slide that stops before 0.625 of the clip, a stream that ends
before 0.725, pieces that slow at more than 2 speeds per clip, a swing that
decays by more than e^-2.1, a ball that rests within 0.7 of the clip along
the floor). Everything else is drawn independently of it.

Each clip has a static textured background, a floor, a saturated moving
object (random colour, size, start, direction, timing and physical
constants), half of the time a static dull distractor, and a per-frame
illumination flicker the encoder must learn to ignore. `render_clip` is the
pure-numpy renderer, `trajectory` the physics it draws.

    import s2l.datasets.physics_video  # Registers the builder.
    ds = tfds.load("s2l_physics_video", split="train", data_dir=...)
"""

import dataclasses
from typing import Dict, List, Tuple

import numpy as np
import tensorflow_datasets as tfds

from s2l.datasets import embedded
from s2l.datasets.drawing import coverage
from s2l.datasets.drawing import hsv_to_rgb
from s2l.datasets.drawing import shape_coverage
from s2l.datasets.drawing import smooth_noise

CLASS_NAMES = (
    "Dropping something onto a surface",
    "Pushing something so that it slides to a stop",
    "Pouring something into something",
    "Dropping something so that it breaks",
    "Something swinging to a stop",
    "Letting something roll down a slanted surface",
)
# The second task, which only the motion tells: whether the clip's one pace
# constant (below) lies in the quicker or the slower half of the range it is
# drawn from, so half of each class is quick. Object, scene and sizes are
# drawn independently of it: it is told by how things move, not by what is
# drawn.
PACE_NAMES = ("quick", "slow")
FLOOR = 0.86  # The floor's top, as a fraction of the height.
_SUBSTEPS = 40  # Integration steps per frame interval.

# A drawing primitive: ("disc", x, y, r), ("box", cx, cy, half_w, half_h),
# ("line", x0, y0, x1, y1, half_width), ("shape", name, x, y, r, angle) or
# ("ramp", x_low, x_edge, y_top), each ending in "wall" when drawn in the
# scene's neutral colour rather than the object's.
Part = Tuple


def _times(num_frames: int) -> np.ndarray:
  """[T] frame times in [0, 1]."""
  return np.linspace(0.0, 1.0, num_frames)


def _integrate(num_frames, step):
  """Runs `step(dt)` _SUBSTEPS times per frame interval; returns the state
  it reports at each frame (`step(0.0)` reads it)."""
  states = [step(0.0)]
  dt = 1.0 / ((num_frames - 1) * _SUBSTEPS)
  for _ in range(num_frames - 1):
    for _ in range(_SUBSTEPS):
      state = step(dt)
    states.append(state)
  return states


def _drop(rng, num_frames, height, width):
  """A ball dropped from rest that bounces lower each time."""
  floor = FLOOR * height
  r = height * rng.uniform(0.06, 0.09)
  y0 = height * rng.uniform(0.1, 0.3)
  fall = rng.uniform(0.18, 0.28)  # Time of the first fall, of the clip.
  g = 2 * (floor - r - y0) / fall**2
  restitution = rng.uniform(0.45, 0.65)
  x = [rng.uniform(0.25, 0.75) * width]
  vx = [rng.choice([-1, 1]) * rng.uniform(0.0, 0.25) * width]
  y, vy = [y0], [0.0]

  def step(dt):
    vy[0] += g * dt
    y[0] += vy[0] * dt
    x[0] += vx[0] * dt
    if y[0] > floor - r:  # Bounce: lose energy, and some sideways speed.
      y[0] = floor - r
      vy[0] = -restitution * vy[0] if abs(vy[0]) > 0.02 * g else 0.0
      vx[0] *= 0.8
    x[0] = np.clip(x[0], r, width - r)
    return x[0], y[0]

  path = np.array(_integrate(num_frames, step))
  parts = [[("disc", px, py, r)] for px, py in path]
  return parts, {"height": floor - r - path[:, 1],
                 "quick": restitution < 0.55}


def _slide(rng, num_frames, height, width):
  """A block pushed along the floor that slows to a stop."""
  half = height * rng.uniform(0.06, 0.09)
  stop = rng.uniform(0.45, 0.8)  # When it stops, of the clip.
  distance = width * rng.uniform(0.45, 0.65)
  direction = rng.choice([-1, 1])
  start = (half + rng.uniform(0, 0.1) * width if direction > 0 else
           width - half - rng.uniform(0, 0.1) * width)
  t = np.minimum(_times(num_frames), stop)
  # Constant deceleration from v0 to 0 at `stop`: s = d (2 t/s - (t/s)^2).
  travelled = distance * (2 * t / stop - (t / stop)**2)
  x = start + direction * travelled
  y = FLOOR * height - half
  parts = [[("box", px, y, half, half)] for px in x]
  return parts, {"travelled": travelled, "quick": stop < 0.625}


def _pour(rng, num_frames, height, width):
  """A container that fills from a stream, which stops before the end."""
  floor = FLOOR * height
  half_w = width * rng.uniform(0.14, 0.2)
  depth = height * rng.uniform(0.3, 0.42)
  cx = width * rng.uniform(0.35, 0.65)
  wall = max(1.0, 0.02 * width)
  begin, end = rng.uniform(0.0, 0.15), rng.uniform(0.6, 0.85)
  full = rng.uniform(0.6, 0.9)
  t = _times(num_frames)
  level = depth * full * np.clip((t - begin) / (end - begin), 0.0, 1.0)
  stream_x = cx + rng.uniform(-0.3, 0.3) * half_w
  top = height * rng.uniform(0.05, 0.15)
  parts = []
  for k in range(num_frames):
    frame = [("box", cx - half_w, floor - depth / 2, wall, depth / 2, "wall"),
             ("box", cx + half_w, floor - depth / 2, wall, depth / 2, "wall")]
    if level[k] > 0:
      frame.append(("box", cx, floor - level[k] / 2, half_w - wall,
                    level[k] / 2))
    if begin <= t[k] <= end:
      surface = floor - level[k]
      frame.append(("box", stream_x, (top + surface) / 2, 0.012 * width,
                    (surface - top) / 2))
    parts.append(frame)
  return parts, {"level": level, "quick": end < 0.725}


def _break(rng, num_frames, height, width):
  """A bar dropped from rest that breaks in two on the floor; the pieces
  hop apart and slide to rest."""
  floor = FLOOR * height
  half_w, half_h = width * rng.uniform(0.1, 0.14), height * rng.uniform(
      0.03, 0.045)
  y0 = height * rng.uniform(0.1, 0.3)
  fall = rng.uniform(0.2, 0.35)
  g = 2 * (floor - half_h - y0) / fall**2
  x0 = width * rng.uniform(0.35, 0.65)
  speed = width * rng.uniform(0.5, 0.9)
  slow = rng.uniform(1.5, 2.5)  # Friction deceleration, in speeds per clip.
  hop = rng.uniform(0.15, 0.3) * np.sqrt(2 * g * (floor - half_h - y0))
  parts, separation = [], []
  for t in _times(num_frames):
    if t < fall:
      y = y0 + 0.5 * g * t**2
      parts.append([("box", x0, y, half_w, half_h)])
      separation.append(0.0)
      continue
    s = t - fall
    stop = 1.0 / slow
    moved = speed * np.minimum(s, stop) * (1 - slow * np.minimum(s, stop) / 2)
    lift = max(0.0, hop * s - 0.5 * g * s**2)
    piece = half_w / 2
    left = max(x0 - piece - moved, piece)
    right = min(x0 + piece + moved, width - piece)
    y = floor - half_h - lift
    parts.append([("box", left, y, piece * 0.9, half_h),
                  ("box", right, y, piece * 0.9, half_h)])
    separation.append(right - left)
  return parts, {"separation": np.array(separation), "quick": slow > 2.0}


def _swing(rng, num_frames, height, width):
  """A pendulum released from an angle whose swings shrink to rest."""
  pivot = (width * rng.uniform(0.4, 0.6), height * rng.uniform(0.05, 0.12))
  length = height * rng.uniform(0.45, 0.6)
  r = height * rng.uniform(0.05, 0.07)
  amplitude = np.deg2rad(rng.uniform(40, 65)) * rng.choice([-1, 1])
  periods = rng.uniform(1.0, 1.6)
  decay = rng.uniform(1.6, 2.6)  # The amplitude falls by e^-decay.
  t = _times(num_frames)
  envelope = np.exp(-decay * t)
  angle = amplitude * envelope * np.cos(2 * np.pi * periods * t)
  x = pivot[0] + length * np.sin(angle)
  y = pivot[1] + length * np.cos(angle)
  parts = [[("line", pivot[0], pivot[1], bx, by, 0.01 * width, "wall"),
            ("disc", bx, by, r)] for bx, by in zip(x, y)]
  return parts, {"envelope": np.abs(amplitude) * envelope,
                 "quick": decay > 2.1}


def _surface(x, x_low, x_edge, y_top, floor):
  """The ramp's height (y) above x: the floor at x_low, y_top at x_edge."""
  return floor - (floor - y_top) * (x - x_low) / (x_edge - x_low)


def _roll(rng, num_frames, height, width):
  """A ball released at the top of a ramp: faster down it, then slower
  along the floor."""
  floor = FLOOR * height
  r = height * rng.uniform(0.05, 0.07)
  side = rng.choice([-1, 1])  # 1: the ramp rises to the right edge.
  x_edge = width if side > 0 else 0.0
  run = width * rng.uniform(0.4, 0.5)
  x_low = x_edge - side * run
  y_top = floor - height * rng.uniform(0.3, 0.45)
  down = rng.uniform(0.4, 0.55)  # Time to the bottom, of the clip.
  start = x_edge - side * 1.5 * r
  slope = abs(start - x_low) * np.hypot(1.0, (floor - y_top) / run)
  a = 2 * slope / down**2
  v_bottom = a * down
  rolling = rng.uniform(0.5, 0.9)  # Time to rest along the floor.
  friction = v_bottom / rolling
  xs, ys, speed = [], [], []
  for tk in _times(num_frames):
    if tk < down:
      along = 0.5 * a * tk**2 / slope
      x = start + (x_low - start) * along
      xs.append(x)
      ys.append(_surface(x, x_low, x_edge, y_top, floor) - 1.2 * r)
      speed.append(a * tk)
    else:
      s = min(tk - down, v_bottom / friction)
      moved = v_bottom * s - 0.5 * friction * s**2
      xs.append(np.clip(x_low - side * moved, r, width - r))
      ys.append(floor - r)
      speed.append(max(v_bottom - friction * (tk - down), 0.0))
  ramp = ("ramp", x_low, x_edge, y_top, "wall")
  parts = [[ramp, ("disc", x, y, r)] for x, y in zip(xs, ys)]
  return parts, {"speed": np.array(speed), "down": down,
                 "quick": rolling < 0.7}


_MOTIONS = (_drop, _slide, _pour, _break, _swing, _roll)


def trajectory(label: int, num_frames: int, height: int, width: int,
               rng: np.random.Generator) -> Tuple[List[List[Part]], Dict]:
  """The physics of one clip of class `label`.

  Returns:
    (the parts drawn in each of the T frames, a trace of what fixes the
    order, per class: "height" above the floor (dropping), "travelled"
    (sliding), "level" (pouring), "separation" of the pieces (breaking),
    "envelope" of the swing (swinging), "speed" (rolling), each [T]; and
    "quick": whether the clip's pace constant lies in the quicker half of
    its range (`PACE_NAMES`)).
  """
  if not 0 <= label < len(CLASS_NAMES):
    raise ValueError(f"label must be in [0, {len(CLASS_NAMES)}), got {label}.")
  return _MOTIONS[label](rng, num_frames, height, width)


def _background(rng, height, width):
  """[H, W, 3] float static scene: a tinted texture, a floor and, half of
  the time, a dull distractor shape."""
  yy, xx = np.mgrid[0:height, 0:width].astype(np.float64) + 0.5
  base = hsv_to_rgb([rng.uniform(), rng.uniform(0.0, 0.15),
                     rng.uniform(0.4, 0.65)])
  texture = (0.08 * smooth_noise(rng, height, width, 6)
             + 0.03 * smooth_noise(rng, height, width, 16))
  scene = base * (1 + texture)[..., None]
  floor = hsv_to_rgb([rng.uniform(), rng.uniform(0.1, 0.3),
                      rng.uniform(0.15, 0.3)])
  below = coverage(FLOOR * height - yy, 1.0)[..., None]
  scene = scene * (1 - below) + floor * below
  if rng.uniform() < 0.5:
    radius = min(height, width) * rng.uniform(0.06, 0.1)
    cx = rng.uniform(radius, width - radius)
    cy = rng.uniform(radius, FLOOR * height - radius)
    alpha = shape_coverage(("triangle", "ring", "cross")[rng.integers(3)],
                           (xx - cx) / radius, (yy - cy) / radius,
                           1.0 / radius)[..., None]
    dull = hsv_to_rgb([rng.uniform(), rng.uniform(0.0, 0.15),
                       rng.choice([0.1, 0.9])])
    scene = scene * (1 - alpha) + dull * alpha
  return scene, xx, yy


def _alpha(part, xx, yy):
  """Coverage [H, W] of one drawing primitive."""
  kind = part[0]
  if kind == "disc":
    _, x, y, r = part[:4]
    return coverage(np.hypot(xx - x, yy - y) - r, 1.0)
  if kind == "box":
    _, cx, cy, hw, hh = part[:5]
    return coverage(np.maximum(np.abs(xx - cx) - hw, np.abs(yy - cy) - hh),
                    1.0)
  if kind == "line":
    _, x0, y0, x1, y1, half = part[:6]
    dx, dy = x1 - x0, y1 - y0
    s = np.clip(((xx - x0) * dx + (yy - y0) * dy) / (dx * dx + dy * dy),
                0, 1)
    return coverage(np.hypot(xx - x0 - s * dx, yy - y0 - s * dy) - half, 1.0)
  if kind == "ramp":  # The triangle under the slope, down to the floor.
    _, x_low, x_edge, y_top = part[:4]
    floor = FLOOR * xx.shape[0]
    span = abs(x_edge - x_low)
    fraction = (xx - x_low) / (x_edge - x_low)
    distance = np.maximum.reduce([
        _surface(xx, x_low, x_edge, y_top, floor) - yy, yy - floor,
        -fraction * span, (fraction - 1) * span])
    return coverage(distance, 1.0)
  raise ValueError(f"unknown part {kind!r}")


def render_clip(label: int, num_frames: int, height: int, width: int,
                rng: np.random.Generator) -> np.ndarray:
  """Renders one clip of class `label`; a pure function of the generator
  state. `render_clip_and_pace` also gives the clip's pace.

  Args:
    label: class id in [0, len(CLASS_NAMES)).
    num_frames: T >= 2.
    height, width: H, W >= 16.
    rng: numpy Generator; consumed.

  Returns:
    [T, H, W, 3] uint8 frames.

  Raises:
    ValueError: for an unknown label or a size too small to draw.
  """
  return render_clip_and_pace(label, num_frames, height, width, rng)[0]


def render_clip_and_pace(label: int, num_frames: int, height: int,
                         width: int, rng: np.random.Generator
                         ) -> Tuple[np.ndarray, int]:
  """`render_clip`'s frames (the same for the same generator state) and the
  clip's pace: the index in `PACE_NAMES`, 0 for "quick"."""
  if num_frames < 2 or height < 16 or width < 16:
    raise ValueError(f"Need num_frames >= 2 and height, width >= 16, got "
                     f"{num_frames}, {height}, {width}.")
  scene, xx, yy = _background(rng, height, width)
  parts, trace = trajectory(label, num_frames, height, width, rng)
  colour = hsv_to_rgb([rng.uniform(), rng.uniform(0.7, 1.0),
                       rng.uniform(0.7, 1.0)])
  walls = hsv_to_rgb([rng.uniform(), rng.uniform(0.0, 0.2),
                      rng.uniform(0.75, 0.95)])
  flicker = rng.uniform(0.95, 1.05, size=num_frames)
  frames = np.empty((num_frames, height, width, 3))
  for k, frame_parts in enumerate(parts):
    frame = scene.copy()
    for part in frame_parts:
      alpha = _alpha(part, xx, yy)[..., None]
      frame = frame * (1 - alpha) + (walls if part[-1] == "wall" else
                                     colour) * alpha
    frames[k] = frame * flicker[k]
  return (np.clip(np.round(frames * 255), 0, 255).astype(np.uint8),
          0 if trace["quick"] else 1)


@dataclasses.dataclass(eq=False)
class PhysicsVideoConfig(tfds.core.BuilderConfig):
  """Clip size, split sizes and seed.

  Attributes:
    num_frames: T, frames per clip (the paper samples 20 along each video).
    height: H, frame height.
    width: W, frame width.
    counts: clips per split; labels cycle through the classes.
    seed: clip i of split s is drawn from `embedded.example_rng(seed, s, i)`.
  """
  num_frames: int = 24
  height: int = 64
  width: int = 64
  # Twice synthetic_video's clips: its CFN memorised its 2000.
  counts: Dict[str, int] = dataclasses.field(
      default_factory=lambda: {"train": 4000, "validation": 400, "test": 400})
  seed: int = 0

  def __post_init__(self):
    if self.num_frames < 2 or self.height < 16 or self.width < 16:
      raise ValueError(f"Need num_frames >= 2 and height, width >= 16, got "
                       f"{self.num_frames}, {self.height}, {self.width}.")
    embedded.check_split_counts(self.counts)


class PhysicsVideo(tfds.core.GeneratorBasedBuilder):
  """Irreversible everyday physics, generated locally on first use."""

  name = "s2l_physics_video"
  VERSION = tfds.core.Version("1.1.0")
  RELEASE_NOTES = {"1.0.0": "Initial release.",
                   "1.1.0": "Adds the pace label; the clips are unchanged."}
  BUILDER_CONFIGS = [
      PhysicsVideoConfig(
          name="default",
          description="24 frames of 64x64; 4000/400/400 clips."),
      PhysicsVideoConfig(
          name="tiny", num_frames=8, height=32, width=32,
          counts={"train": 24, "validation": 12, "test": 12},
          description="8 frames of 32x32; 24/12/12 clips, for tests."),
  ]

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    return self.dataset_info_from_configs(
        description=("Synthetic clips of things that fall, bounce, slide, "
                     "fill, break and swing: none looks right backwards."),
        features=tfds.features.FeaturesDict({
            "video": tfds.features.Video(
                shape=(config.num_frames, config.height, config.width, 3),
                dtype=np.uint8, encoding_format="jpeg"),
            "label": tfds.features.ClassLabel(names=CLASS_NAMES),
            "pace": tfds.features.ClassLabel(names=PACE_NAMES),
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
      video, pace = render_clip_and_pace(label, config.num_frames,
                                         config.height, config.width, rng)
      key = f"{split}_{index:06d}"
      yield key, {"video": video, "label": label, "pace": pace, "id": key}
