"""Tests for s2l/datasets/synthetic_video.py."""

import collections

import numpy as np
import pytest
import tensorflow_datasets as tfds

from s2l.datasets import synthetic_video

NUM_CLASSES = len(synthetic_video.CLASS_NAMES)
CLIPS_PER_CLASS = 8
# The tiny config's clip size and a larger one, to measure motion on.
SIZES = [(8, 32, 32), (16, 48, 48)]


def _clip(label, size, index):
  num_frames, height, width = size
  rng = np.random.default_rng([7, label, index])
  return synthetic_video.render_clip(label, num_frames, height, width, rng)


def _stats(clip):
  """Per-frame statistics of the saturated (moving) object, each [T].

  The background and distractor are dull by construction, so pixels of high
  chroma (max - min channel) are the object's.
  """
  frames = clip.astype(np.float64) / 255
  chroma = frames.max(-1) - frames.min(-1)
  num_frames, height, width = chroma.shape
  mask = chroma > 0.3
  area = mask.sum((1, 2)).astype(np.float64)
  yy, xx = np.mgrid[0:height, 0:width] + 0.5
  with np.errstate(invalid="ignore", divide="ignore"):
    cx = (mask * xx).sum((1, 2)) / area
    cy = (mask * yy).sum((1, 2)) / area
    dx, dy = xx - cx[:, None, None], yy - cy[:, None, None]
    mu20 = (mask * dx**2).sum((1, 2))
    mu02 = (mask * dy**2).sum((1, 2))
    mu11 = (mask * dx * dy).sum((1, 2))
  # Orientation of the principal axis, y down: it grows turning clockwise.
  theta = 0.5 * np.arctan2(2 * mu11, mu20 - mu02)
  # Mean of the 2 most saturated pixels: the object's contrast, which thin
  # shapes a few pixels across still reach.
  contrast = np.sort(chroma.reshape(num_frames, -1), 1)[:, -2:].mean(1)
  return {"x": cx / width, "y": cy / height, "area": area,
          "contrast": contrast, "theta": theta}


def _turn(theta):
  """Total signed rotation of an axis (mod pi) over the clip, radians."""
  return np.sum((np.diff(theta) + np.pi / 2) % np.pi - np.pi / 2)


def _measured_class(clip):
  """Names the class of a clip from its measured statistics alone."""
  s = _stats(clip)
  contrast = s["contrast"][-1] - s["contrast"][0]
  if abs(contrast) > 0.2:
    return 6 if contrast > 0 else 7
  growth = np.log(s["area"][-1] / s["area"][0])
  if abs(growth) > np.log(2.5):
    return 4 if growth > 0 else 5
  dx, dy = s["x"][-1] - s["x"][0], s["y"][-1] - s["y"][0]
  if max(abs(dx), abs(dy)) > 0.2:
    if abs(dx) > abs(dy):
      return 0 if dx > 0 else 1
    return 2 if dy > 0 else 3
  return 8 if _turn(s["theta"]) > 0 else 9


# --- reverse_class ----------------------------------------------------------


def test_reverse_class_is_an_involution_pairing_opposite_names():
  pairs = {c: synthetic_video.reverse_class(c) for c in range(NUM_CLASSES)}
  assert all(pairs[pairs[c]] == c and pairs[c] != c for c in pairs)
  names = synthetic_video.CLASS_NAMES
  assert names[pairs[names.index("moving left to right")]] == (
      "moving right to left")
  assert names[pairs[names.index("falling")]] == "rising"
  assert names[pairs[names.index("rotating clockwise")]] == (
      "rotating counterclockwise")


@pytest.mark.parametrize("label", [-1, NUM_CLASSES])
def test_reverse_class_rejects_unknown_labels(label):
  with pytest.raises(ValueError, match="label must be in"):
    synthetic_video.reverse_class(label)


# --- render_clip ------------------------------------------------------------


def test_render_clip_shape_dtype_and_determinism():
  first = _clip(3, (5, 20, 24), 0)
  assert first.shape == (5, 20, 24, 3) and first.dtype == np.uint8
  np.testing.assert_array_equal(first, _clip(3, (5, 20, 24), 0))
  assert not np.array_equal(first, _clip(3, (5, 20, 24), 1))
  # Something moves: frames are not all the same.
  assert np.abs(np.diff(first.astype(int), axis=0)).max() > 50


@pytest.mark.parametrize("label", [0, 1, 2, 3])
def test_every_motion_accelerates_so_time_has_an_arrow(label):
  # The object moves further per frame late in the clip than early on, in
  # both classes of a pair; a clip played backwards decelerates, which no
  # clip does, so the order of its frames can be recovered.
  axis = "x" if label < 2 else "y"
  for index in range(CLIPS_PER_CLASS):
    path = _stats(_clip(label, (12, 48, 48), index))[axis]
    steps = np.abs(np.diff(path))
    assert steps[-4:].mean() > 2 * steps[:4].mean(), (label, steps)
    reversed_steps = steps[::-1]
    assert reversed_steps[-4:].mean() < reversed_steps[:4].mean()


# Not the fades (6): a fading-in object has no centroid at the start.
@pytest.mark.parametrize("label", [0, 2, 4, 8])
def test_pairs_follow_one_path_in_opposite_directions(label):
  forward = _stats(_clip(label, (10, 48, 48), 0))
  backward = _stats(synthetic_video.render_clip(
      label + 1, 10, 48, 48, np.random.default_rng([7, label, 0])))
  # Same generator state: the backward clip ends where the forward starts.
  for key in ("x", "y"):
    assert abs(backward[key][-1] - forward[key][0]) < 0.08, key
    assert abs(backward[key][0] - forward[key][-1]) < 0.08, key


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("label", range(NUM_CLASSES))
def test_measured_motion_follows_the_label(label, size):
  for index in range(CLIPS_PER_CLASS):
    s = _stats(_clip(label, size, index))
    forward = label % 2 == 0
    sign = 1 if forward else -1
    name = synthetic_video.CLASS_NAMES[label]
    if label in (0, 1):  # x grows left to right.
      assert sign * (s["x"][-1] - s["x"][0]) > 0.25, name
      assert abs(s["y"][-1] - s["y"][0]) < 0.15, name
    elif label in (2, 3):  # y grows downwards: falling.
      assert sign * (s["y"][-1] - s["y"][0]) > 0.25, name
      assert abs(s["x"][-1] - s["x"][0]) < 0.15, name
    elif label in (4, 5):
      assert sign * np.log(s["area"][-1] / s["area"][0]) > np.log(3), name
    elif label in (6, 7):
      assert sign * (s["contrast"][-1] - s["contrast"][0]) > 0.25, name
      assert abs(s["x"][-1 if forward else 0] - 0.5) < 0.45, name
    else:
      turns = (np.diff(s["theta"]) + np.pi / 2) % np.pi - np.pi / 2
      # Every step turns the same way, by less than a quarter turn; the first
      # ones, from rest, barely turn, so measurement noise may flip them.
      assert np.all(sign * turns > -0.05), (name, turns)
      assert np.all(sign * turns[len(turns) // 2:] > 0), (name, turns)
      assert sign * _turn(s["theta"]) > np.deg2rad(90), name
      assert np.ptp(s["area"]) < 0.5 * s["area"].mean(), name


@pytest.mark.parametrize("size", SIZES)
def test_measured_class_of_a_reversed_clip_is_the_reverse_class(size):
  for label in range(NUM_CLASSES):
    for index in range(CLIPS_PER_CLASS):
      clip = _clip(label, size, index)
      assert _measured_class(clip) == label
      assert _measured_class(clip[::-1]) == synthetic_video.reverse_class(
          label)


@pytest.mark.parametrize("args", [(NUM_CLASSES, 8, 32, 32), (0, 1, 32, 32),
                                  (0, 8, 8, 32)])
def test_render_clip_rejects_bad_arguments(args):
  with pytest.raises(ValueError):
    synthetic_video.render_clip(*args, np.random.default_rng(0))


def test_config_rejects_missing_splits():
  with pytest.raises(ValueError, match="counts"):
    synthetic_video.SyntheticVideoConfig(name="bad", counts={"train": 3})


# --- SyntheticVideo ---------------------------------------------------------


def _build(data_dir):
  builder = tfds.builder("s2l_synthetic_video", config="tiny",
                         data_dir=data_dir)
  builder.download_and_prepare()
  return builder


def _examples(builder, split):
  examples = tfds.as_numpy(builder.as_dataset(split=split, shuffle_files=False))
  return sorted(examples, key=lambda e: e["id"])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
  return _build(tmp_path_factory.mktemp("tfds"))


def test_tiny_splits_features_and_class_balance(tiny):
  config = tiny.builder_config
  assert tiny.info.features["label"].names == list(
      synthetic_video.CLASS_NAMES)
  for split, count in config.counts.items():
    examples = _examples(tiny, split)
    assert len(examples) == count
    assert len({e["id"] for e in examples}) == count
    for example in examples:
      assert example["video"].shape == (8, 32, 32, 3)
      assert example["video"].dtype == np.uint8
      assert example["id"].decode().startswith(split + "_")
    counts = collections.Counter(int(e["label"]) for e in examples)
    assert set(counts) == set(range(NUM_CLASSES))
    assert max(counts.values()) - min(counts.values()) <= 1


def test_tiny_stores_the_rendered_clip_of_each_label(tiny):
  config = tiny.builder_config
  examples = _examples(tiny, "validation")
  rendered = []
  for example in examples:
    index = int(example["id"].decode().split("_")[-1])
    rng = np.random.default_rng([config.seed, 1, index])
    rendered.append(synthetic_video.render_clip(
        int(example["label"]), 8, 32, 32, rng))
  stored = np.stack([e["video"] for e in examples]).astype(int)
  rendered = np.stack(rendered).astype(int)
  # [stored, rendered] mean absolute error. Frames are stored as JPEG, so
  # each clip matches its own rendering up to compression error, and no
  # other.
  error = np.abs(stored[:, None] - rendered[None]).mean((2, 3, 4, 5))
  assert np.all(np.diag(error) < 4), np.diag(error)
  off_diagonal = error[~np.eye(len(error), dtype=bool)]
  assert off_diagonal.min() > 2 * np.diag(error).max()
  # Where the object moves, the stored clip is closer to its rendering in
  # order than reversed, i.e. to the rendering of the pair's other class
  # (JPEG blurs small saturated objects, hence the loose margin).
  for clip, expected, example in zip(stored, rendered, examples):
    moving = expected.std(axis=0).sum(-1) > 40
    forward = np.abs(clip - expected)[:, moving].mean()
    backward = np.abs(clip - expected[::-1])[:, moving].mean()
    assert forward < 0.8 * backward, example["id"]


def test_tiny_build_is_deterministic(tiny, tmp_path):
  again = _build(tmp_path)
  for split in tiny.builder_config.counts:
    for first, second in zip(_examples(tiny, split), _examples(again, split),
                             strict=True):
      assert first["id"] == second["id"]
      assert first["label"] == second["label"]
      np.testing.assert_array_equal(first["video"], second["video"])
