"""Tests for s2l/datasets/synthetic_images.py."""

import collections

import numpy as np
import pytest
import tensorflow_datasets as tfds

from s2l.datasets import synthetic_images

NUM_CLASSES = len(synthetic_images.CLASS_NAMES)
SIZE = 64
HOLLOW = ("ring", "frame")
SOLID = ("disc", "square", "triangle", "cross", "star", "bar")


def _render(seed, classes=None, size=SIZE):
  return synthetic_images.render_image(np.random.default_rng(seed), size,
                                       classes)


def _object_mask(seed, label):
  """[S, S] bool pixels where a lone object of `label` changed the scene."""
  image, labels = _render(seed, [label])
  bare, _ = _render(seed, [])
  assert labels == [label]
  changed = np.abs(image.astype(int) - bare.astype(int)).sum(-1) > 60
  return image, changed


def _hue_saturation(rgb):
  """[..., 3] uint8 -> hue in turns and HSV saturation, each [...]."""
  rgb = rgb.astype(np.float64) / 255
  high, low = rgb.max(-1), rgb.min(-1)
  delta = np.maximum(high - low, 1e-9)
  r, g, b = np.moveaxis(rgb, -1, 0)
  hue = np.where(high == r, (g - b) / delta % 6,
                 np.where(high == g, (b - r) / delta + 2, (r - g) / delta + 4))
  return hue / 6, (high - low) / np.maximum(high, 1e-9)


# --- render_image -----------------------------------------------------------


def test_render_image_shape_dtype_and_determinism():
  image, labels = _render(0)
  assert image.shape == (SIZE, SIZE, 3) and image.dtype == np.uint8
  again, labels_again = _render(0)
  np.testing.assert_array_equal(image, again)
  assert labels == labels_again
  other, _ = _render(1)
  assert np.abs(image.astype(int) - other.astype(int)).mean() > 10


def test_no_objects_gives_no_labels_and_the_bare_scene():
  image, labels = _render(3, [])
  assert labels == []
  # The scene drawn before the objects is the same with or without them.
  with_object, _ = _render(3, [0])
  same = np.all(image == with_object, axis=-1)
  assert 0.5 < same.mean() < 1.0


def test_labels_are_the_sorted_distinct_classes_drawn():
  _, labels = _render(4, [5, 2, 5], size=128)
  assert labels == [2, 5]


@pytest.mark.parametrize("label", range(NUM_CLASSES))
def test_a_lone_object_has_its_class_colour_and_outline(label):
  shape = synthetic_images.CLASS_SHAPES[label]
  for seed in range(8):
    image, mask = _object_mask([label, seed], label)
    assert mask.sum() >= 15, (shape, seed)
    hue, saturation = _hue_saturation(image[mask])
    # Offset to the nearer of the class's two hue families.
    offsets = [(hue - family + 0.5) % 1.0 - 0.5
               for family in synthetic_images.CLASS_HUES[label]]
    offset = offsets[np.argmin([abs(np.median(o)) for o in offsets])]
    on_hue = (np.abs(offset) < synthetic_images.HUE_JITTER + 0.03) & (
        saturation > 0.4)
    # Edge pixels blend with the scene, and thin shapes are mostly edge.
    assert np.mean(on_hue) > 0.5, (shape, seed)
    assert abs(np.median(offset)) < synthetic_images.HUE_JITTER + 0.01, (
        shape, seed)
    yy, xx = np.nonzero(mask)
    middle = mask[int(round(yy.mean())), int(round(xx.mean()))]
    if shape in HOLLOW:
      assert not middle, (shape, seed)
    elif shape in SOLID:
      assert middle, (shape, seed)


def test_colour_alone_does_not_name_a_class():
  classes_per_hue = collections.Counter()
  for hues in synthetic_images.CLASS_HUES:
    assert len(set(hues)) == 2
    classes_per_hue.update(hues)
  assert set(classes_per_hue.values()) == {4}
  # No two classes share both families.
  assert len(set(map(frozenset, synthetic_images.CLASS_HUES))) == NUM_CLASSES
  assert len(set(synthetic_images.CLASS_SHAPES)) == NUM_CLASSES


def test_both_hue_families_of_a_class_occur():
  label = 4
  medians = []
  for seed in range(12):
    image, mask = _object_mask([label, seed], label)
    hue, _ = _hue_saturation(image[mask])
    medians.append(min(synthetic_images.CLASS_HUES[label],
                       key=lambda f: abs((np.median(hue) - f + 0.5) % 1 - 0.5)))
  assert set(medians) == set(synthetic_images.CLASS_HUES[label])


def test_label_counts_and_classes_cover_the_range():
  counts, classes = collections.Counter(), collections.Counter()
  for seed in range(300):
    _, labels = _render([9, seed], size=48)
    counts[len(labels)] += 1
    classes.update(labels)
  assert set(counts) == {1, 2, 3, 4}
  assert counts[1] > counts[2] > counts[3] > counts[4]
  assert set(classes) == set(range(NUM_CLASSES))
  assert min(classes.values()) > 0.5 * max(classes.values())


def test_scenes_have_sky_on_top_and_ground_below():
  # Global structure that places a 3x3 tile's row: the top third is bluish
  # sky, the bottom third earthy ground, in nearly every scene.
  sky_on_top = 0
  for seed in range(40):
    image, _ = _render([11, seed], [])
    image = image.astype(np.float64)
    top, bottom = image[:SIZE // 3].mean((0, 1)), image[-SIZE // 3:].mean(
        (0, 1))
    sky_on_top += top[2] - top[0] > 0 and bottom[0] - bottom[2] > 0
  assert sky_on_top >= 36


@pytest.mark.parametrize("size, classes", [(8, None), (SIZE, [NUM_CLASSES]),
                                           (SIZE, [-1])])
def test_render_image_rejects_bad_arguments(size, classes):
  with pytest.raises(ValueError):
    synthetic_images.render_image(np.random.default_rng(0), size, classes)


def test_config_rejects_missing_splits():
  with pytest.raises(ValueError, match="counts"):
    synthetic_images.SyntheticImagesConfig(name="bad", counts={"train": 3})


# --- SyntheticImages --------------------------------------------------------


def _build(data_dir):
  builder = tfds.builder("s2l_synthetic_images", config="tiny",
                         data_dir=data_dir)
  builder.download_and_prepare()
  return builder


def _examples(builder, split):
  examples = tfds.as_numpy(builder.as_dataset(split=split, shuffle_files=False))
  return sorted(examples, key=lambda e: e["id"])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
  return _build(tmp_path_factory.mktemp("tfds"))


def test_tiny_splits_and_features(tiny):
  config = tiny.builder_config
  assert tiny.info.features["labels"].feature.names == list(
      synthetic_images.CLASS_NAMES)
  for split, count in config.counts.items():
    examples = _examples(tiny, split)
    assert len(examples) == count
    assert len({e["id"] for e in examples}) == count
    for example in examples:
      assert example["image"].shape == (48, 48, 3)
      assert example["image"].dtype == np.uint8
      labels = example["labels"].tolist()
      assert 1 <= len(labels) <= 4 and labels == sorted(set(labels))
      assert all(0 <= c < NUM_CLASSES for c in labels)


def test_tiny_stores_the_rendered_images_and_labels(tiny):
  config = tiny.builder_config
  examples = _examples(tiny, "test")
  rendered = []
  for example in examples:
    index = int(example["id"].decode().split("_")[-1])
    rng = np.random.default_rng([config.seed, 2, index])
    image, labels = synthetic_images.render_image(rng, 48)
    assert example["labels"].tolist() == labels
    rendered.append(image)
  stored = np.stack([e["image"] for e in examples]).astype(int)
  rendered = np.stack(rendered).astype(int)
  # [stored, rendered] mean absolute error. Images are stored as JPEG, so
  # each matches its own rendering up to compression error, and no other.
  error = np.abs(stored[:, None] - rendered[None]).mean((2, 3, 4))
  assert np.all(np.diag(error) < 10), np.diag(error)
  off_diagonal = error[~np.eye(len(error), dtype=bool)]
  assert off_diagonal.min() > 2 * np.diag(error).max()


def test_tiny_build_is_deterministic(tiny, tmp_path):
  again = _build(tmp_path)
  for split in tiny.builder_config.counts:
    for first, second in zip(_examples(tiny, split), _examples(again, split),
                             strict=True):
      assert first["id"] == second["id"]
      np.testing.assert_array_equal(first["labels"], second["labels"])
      np.testing.assert_array_equal(first["image"], second["image"])
