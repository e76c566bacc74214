"""Tests for s2l/datasets/physics_video.py: irreversible clips, whose
physics has an arrow of time in every class."""

import collections

import numpy as np
import pytest
import tensorflow_datasets as tfds

from s2l.data import sources
from s2l.datasets import physics_video

NUM_CLASSES = len(physics_video.CLASS_NAMES)
SEEDS = range(12)


def _trace(label, seed, num_frames=32):
  _, trace = physics_video.trajectory(label, num_frames, 64, 64,
                                      np.random.default_rng(seed))
  return trace


@pytest.mark.parametrize("seed", SEEDS)
def test_a_dropped_ball_bounces_lower_each_time_and_comes_to_rest(seed):
  height = _trace(0, seed, num_frames=200)["height"]
  assert height[0] > 20 and height[-1] < 1.0  # From up high to the floor.
  # The peaks between touches of the floor shrink.
  peaks = [h for a, h, b in zip(height, height[1:], height[2:])
           if h >= a and h > b and h > 0.5]
  assert np.all(np.diff([height[0], *peaks]) < 0), peaks


@pytest.mark.parametrize("seed", SEEDS)
def test_a_pushed_block_slows_to_a_stop(seed):
  travelled = _trace(1, seed)["travelled"]
  speed = np.diff(travelled)
  assert travelled[-1] > 25
  assert np.all(np.diff(speed) <= 1e-9) and speed[-1] == 0.0


@pytest.mark.parametrize("seed", SEEDS)
def test_a_container_only_fills(seed):
  level = _trace(2, seed)["level"]
  assert np.all(np.diff(level) >= 0) and level[-1] > 10


@pytest.mark.parametrize("seed", SEEDS)
def test_a_dropped_bar_breaks_and_its_pieces_never_rejoin(seed):
  separation = _trace(3, seed)["separation"]
  assert separation[0] == 0.0 and separation[-1] > 10
  assert np.all(np.diff(separation) >= 0)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_pendulum_swings_lower_and_lower(seed):
  envelope = _trace(4, seed)["envelope"]
  assert np.all(np.diff(envelope) < 0)
  assert envelope[-1] < 0.25 * envelope[0]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_ball_speeds_down_the_ramp_then_slows_on_the_floor(seed):
  trace = _trace(5, seed)
  speed, down = trace["speed"], trace["down"]
  t = np.linspace(0, 1, len(speed))
  assert speed[0] == 0.0
  assert np.all(np.diff(speed[t < down]) > 0)
  assert np.all(np.diff(speed[t > down]) <= 0)


# Each class's pace constant, read back from its trace, and the quicker
# half of its range.
def test_the_pace_splits_every_class_in_half_by_its_pace_constant():
  for label in range(NUM_CLASSES):
    quick = [_trace(label, seed, num_frames=8)["quick"] for seed in range(60)]
    # Half of each class, within what 60 fair coin flips give.
    assert 18 <= sum(quick) <= 42, (label, sum(quick))
  # Quick slides stop earlier, quick swings have shrunk more by the end.
  slides = [_trace(1, seed, num_frames=64) for seed in range(20)]
  def stop_frame(trace):
    return int(np.argmax(np.diff(trace["travelled"]) == 0.0))
  quick = [stop_frame(t) for t in slides if t["quick"]]
  slow = [stop_frame(t) for t in slides if not t["quick"]]
  assert quick and slow and max(quick) <= min(slow)
  swings = [_trace(4, seed) for seed in range(20)]
  def shrink(trace):
    return trace["envelope"][-1] / trace["envelope"][0]
  assert max(shrink(t) for t in swings if t["quick"]) < min(
      shrink(t) for t in swings if not t["quick"])


def test_the_pace_does_not_change_the_frames():
  for label in range(NUM_CLASSES):
    frames, pace = physics_video.render_clip_and_pace(
        label, 8, 32, 32, np.random.default_rng(label))
    np.testing.assert_array_equal(frames, physics_video.render_clip(
        label, 8, 32, 32, np.random.default_rng(label)))
    quick = physics_video.trajectory(label, 8, 32, 32, _after_background(
        label))[1]["quick"]
    assert pace == (0 if quick else 1)


def _after_background(seed):
  """A generator in the state `render_clip` draws the trajectory from."""
  rng = np.random.default_rng(seed)
  physics_video._background(rng, 32, 32)  # pylint: disable=protected-access
  return rng


def test_every_clip_is_drawn_frame_by_frame_and_deterministic():
  for label in range(NUM_CLASSES):
    clip = physics_video.render_clip(label, 8, 32, 32,
                                     np.random.default_rng(label))
    again = physics_video.render_clip(label, 8, 32, 32,
                                      np.random.default_rng(label))
    assert clip.shape == (8, 32, 32, 3) and clip.dtype == np.uint8
    np.testing.assert_array_equal(clip, again)
    # Something moves or changes: not the same frame eight times.
    assert np.abs(np.diff(clip.astype(int), axis=0)).max() > 50
  with pytest.raises(ValueError, match="label must be in"):
    physics_video.render_clip(NUM_CLASSES, 8, 32, 32,
                              np.random.default_rng(0))
  with pytest.raises(ValueError, match="num_frames >= 2"):
    physics_video.render_clip(0, 1, 32, 32, np.random.default_rng(0))


def test_the_tiny_twin_builds_offline_with_balanced_classes(tmp_path):
  builder = tfds.builder("s2l_physics_video", config="tiny",
                         data_dir=str(tmp_path))
  builder.download_and_prepare()
  config = builder.builder_config
  for split, count in config.counts.items():
    examples = list(tfds.as_numpy(builder.as_dataset(split=split,
                                                     shuffle_files=False)))
    assert len(examples) == count
    assert examples[0]["video"].shape == (8, 32, 32, 3)
    counts = collections.Counter(int(e["label"]) for e in examples)
    assert set(counts) == set(range(NUM_CLASSES))
    assert max(counts.values()) - min(counts.values()) <= 1
    assert {int(e["pace"]) for e in examples} <= {0, 1}
  paces = [int(e["pace"]) for split in config.counts for e in tfds.as_numpy(
      builder.as_dataset(split=split, shuffle_files=False))]
  assert 0 < sum(paces) < len(paces)  # Both paces occur.
  # Registered as a source, with its classes from the builder.
  assert sources.get("physics_video").tasks["label"].num_classes == (
      NUM_CLASSES)
  assert sources.get("physics_video").tasks["pace"].num_classes == 2
  assert sources.get("physics_video_tiny").modality == "video"
