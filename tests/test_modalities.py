"""Tests for s2l/data/modalities.py: each modality one object."""

import numpy as np
import pytest
import tensorflow as tf

from s2l import probe
from s2l.data import frontends
from s2l.data import modalities
from s2l.data import patches as patches_lib
from s2l.data.patches import Slicing


def test_the_paper_settings_of_each_modality():
  assert list(modalities.REGISTRY) == ["audio", "image", "video"]
  assert modalities.get("audio").frontend() == frontends.AudioFrontend()
  assert modalities.get("image").frontend().size == 128
  video = modalities.get("video").frontend()
  assert (video.num_frames, video.size) == (20, 64)
  given = frontends.ImageFrontend(size=32)
  assert modalities.IMAGE.frontend(given) is given
  # The paper's heads: linear for images, a 3-layer MLP otherwise.
  assert [modalities.get(m).probe_head for m in ("audio", "image", "video")
          ] == ["mlp", "linear", "mlp"]
  for modality in modalities.REGISTRY.values():
    probe.make_head(modality.probe_head, 3)  # A head probe knows.
  assert [m.name for m in modalities.REGISTRY.values()
          if m.frontend_in_model] == ["audio"]


def test_patches_are_counted_from_the_grid_or_the_frames():
  grid = Slicing(nx=3, ny=3)
  assert modalities.AUDIO.num_patches(grid) == 9
  assert modalities.IMAGE.num_patches(grid) == 9
  assert modalities.VIDEO.num_patches(grid) == 20
  assert modalities.VIDEO.num_patches(
      grid, frontends.VideoFrontend(num_frames=7)) == 7
  args = {"nx": 1, "ny": 10, "gap": 0}
  assert modalities.AUDIO.slicing_description(args) == {"nx": 1, "ny": 10}
  assert modalities.VIDEO.slicing_description(args) is None


def test_a_batch_is_cut_as_each_example_alone():
  batch = tf.random.stateless_normal([4, 30, 31, 2], [5, 6])
  for slicing in (Slicing(nx=1, ny=10), Slicing(nx=3, ny=3, gap=4)):
    got = modalities.AUDIO.make_patches(batch, slicing)
    assert got.shape[:2] == (4, slicing.num_patches)
    for example, patches in zip(batch, got):
      np.testing.assert_allclose(
          patches.numpy(),
          modalities.AUDIO.make_patches(example, slicing).numpy(),
          atol=1e-6)
  with pytest.raises(ValueError, match="one \\[H, W, C\\] input at a time"):
    patches_lib.grid_patches(batch, Slicing(nx=3, ny=3, gap=4, jitter=True),
                             seed=[0, 1])


def test_normalisation_and_tf_data():
  image = tf.random.stateless_uniform([12, 12, 3], [0, 1]) * 5 + 2
  slicing = Slicing(nx=2, ny=2)
  eager = modalities.IMAGE.make_patches(image, slicing)
  np.testing.assert_allclose(tf.reduce_mean(eager, [1, 2, 3]), 0, atol=1e-5)
  np.testing.assert_allclose(tf.math.reduce_std(eager, [1, 2, 3]), 1,
                             atol=1e-3)
  ds = tf.data.Dataset.from_tensors(image).map(
      lambda x: modalities.IMAGE.make_patches(x, slicing))
  np.testing.assert_allclose(next(iter(ds)).numpy(), eager.numpy(),
                             rtol=1e-6)
  video = tf.random.stateless_uniform([5, 4, 4, 3], [0, 2])
  # A video's frames are its patches: the grid is not used.
  assert modalities.VIDEO.make_patches(video, slicing).shape == (5, 4, 4, 3)


def test_unknown_and_taken_names_are_refused():
  with pytest.raises(ValueError, match="unknown modality 'text'.*audio"):
    modalities.get("text")
  with pytest.raises(ValueError, match="already registered"):
    modalities.register(modalities.Modality("audio", frontends.AudioFrontend,
                                            "mlp"))
