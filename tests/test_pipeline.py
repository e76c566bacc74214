"""Tests for s2l/data/pipeline.py on mocked TFDS data (no download)."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from s2l import permutations
from s2l.data import frontends
from s2l.data import modalities
from s2l.data import model_inputs
from s2l.data import patches as patches_lib
from s2l.data import pipeline
from s2l.data import shuffling

FREQ10 = patches_lib.Slicing(nx=1, ny=10)


@pytest.fixture(name="mock_tfds")
def _mock_tfds():
  with tfds.testing.mock_data(num_examples=6,
                              policy=tfds.testing.MockPolicy.USE_CODE):
    yield


def _first(ds):
  return tf.nest.map_structure(lambda t: t.numpy(), next(iter(ds)))


def test_nsynth_frequency_bands(mock_tfds):
  del mock_tfds
  patches, ranks = _first(pipeline.pretext_dataset(
      "nsynth", slicing=FREQ10, batch_size=4))
  frames = 1 + (64000 - 512) // 256
  assert patches.shape == (4, 10, 8, frames, 1) and patches.dtype == np.float32
  assert ranks.shape == (4, 10) and ranks.dtype == np.int32
  for row in ranks:
    assert sorted(row) == list(range(1, 11))


def test_shuffled_patches_reassemble_the_downstream_input(mock_tfds):
  del mock_tfds
  common = dict(slicing=FREQ10, batch_size=6, seed=3)
  shuffled, ranks = _first(pipeline.pretext_dataset(
      "nsynth", shuffle_buffer=0, repeat=False, **common))
  original, family = _first(pipeline.downstream_dataset(
      "nsynth", "train", "instrument_family", **common))
  assert not np.array_equal(shuffled, original)
  np.testing.assert_array_equal(
      shuffling.unshuffle(shuffled, ranks).numpy(), original)
  assert family.shape == (6,) and family.dtype == np.int32
  assert np.all((0 <= family) & (family < 11))


def test_reproducible_from_the_seed_and_new_permutations_each_epoch(
    mock_tfds):
  del mock_tfds
  def ranks(seed):
    ds = pipeline.pretext_dataset("nsynth", slicing=FREQ10, batch_size=6,
                                  seed=seed, shuffle_buffer=0)
    return [r for _, r in ds.take(2).as_numpy_iterator()]
  first, again, other = ranks(0), ranks(0), ranks(1)
  np.testing.assert_array_equal(first, again)
  assert not np.array_equal(first[0], other[0])
  assert not np.array_equal(first[0], first[1])  # epoch 2: same examples


def test_placed_in_the_model_it_ships_raw_audio_and_seeds(mock_tfds):
  del mock_tfds
  common = dict(slicing=FREQ10, batch_size=4, seed=2, shuffle_buffer=0)
  raw = _first(pipeline.pretext_dataset("nsynth", placement="model",
                                        **common))
  assert set(raw) == {model_inputs.AUDIO, model_inputs.SEED}
  assert raw[model_inputs.AUDIO].shape == (4, 64000)
  assert raw[model_inputs.SEED].shape == (4, 2)
  assert raw[model_inputs.SEED].dtype == np.int64
  # Each example's seed is the one its permutation is drawn from on the
  # host path, and its waveform the one that path's patches are cut from.
  patches, ranks = _first(pipeline.pretext_dataset("nsynth", **common))
  for b in range(4):
    order = shuffling.uniform_permutation(10, raw[model_inputs.SEED][b])
    np.testing.assert_array_equal(ranks[b], order.numpy() + 1)
    alone = modalities.AUDIO.make_patches(frontends.log_spectrogram(
        raw[model_inputs.AUDIO][b]), FREQ10)
    np.testing.assert_allclose(patches[b], tf.gather(alone, order).numpy(),
                               atol=1e-4)
  with pytest.raises(ValueError, match="frontend_placement must be one of"):
    pipeline.pretext_dataset("nsynth", placement="gpu", **common)


def test_fixed_permutation_set(mock_tfds):
  del mock_tfds
  table = permutations.FixedPermutationSet.maximal_hamming(10, 5)
  ds = pipeline.pretext_dataset("nsynth", slicing=FREQ10, batch_size=6,
                                permutation_set=table)
  members = {tuple(p) for p in table.permutations}
  for _, ranks in ds.take(3).as_numpy_iterator():
    assert {tuple(r) for r in ranks} <= members


def test_images_3x3_and_voc_multilabel(mock_tfds):
  del mock_tfds
  slicing = patches_lib.Slicing(nx=3, ny=3, gap=6, jitter=True)
  patches, ranks = _first(pipeline.pretext_dataset(
      "imagenet2012", slicing=slicing, batch_size=2))
  assert patches.shape == (2, 9, 36, 36, 3) and ranks.shape == (2, 9)
  patches, labels = _first(pipeline.downstream_dataset(
      "voc2012", "train", "labels", slicing=slicing, batch_size=3))
  assert patches.shape == (3, 9, 36, 36, 3)
  assert labels.shape == (3, 20) and set(np.unique(labels)) <= {0.0, 1.0}


def test_time_and_time_frequency_slicing_with_a_custom_frontend(mock_tfds):
  del mock_tfds
  frontend = frontends.AudioFrontend(num_mel_bins=64, frame_step=500)
  for slicing, shape in [(patches_lib.Slicing(nx=8, ny=1), (8, 64, 15, 1)),
                         (patches_lib.Slicing(nx=4, ny=4), (16, 16, 31, 1))]:
    patches, _ = _first(pipeline.pretext_dataset(
        "nsynth", slicing=slicing, frontend=frontend, batch_size=2,
        cache=True))
    assert patches.shape[1:] == shape


def test_downstream_counts_and_bad_task(mock_tfds):
  del mock_tfds
  ds = pipeline.downstream_dataset("nsynth", "test", "pitch", slicing=FREQ10,
                                   batch_size=4, num_examples=5)
  sizes = [len(y) for _, y in ds.as_numpy_iterator()]
  assert sizes == [4, 1]
  with pytest.raises(ValueError, match="tasks .*instrument_family"):
    pipeline.downstream_dataset("nsynth", "test", "timbre", slicing=FREQ10)


@pytest.fixture(name="data_dir", scope="module")
def _data_dir(tmp_path_factory):
  return str(tmp_path_factory.mktemp("tfds"))


def test_embedded_video_frames_are_the_patches(data_dir):
  frontend = frontends.VideoFrontend(num_frames=8, size=32)
  ds = pipeline.pretext_dataset("synthetic_video_tiny", slicing=FREQ10,
                                frontend=frontend, batch_size=4,
                                data_dir=data_dir, cache=True)
  patches, ranks = _first(ds)
  assert patches.shape == (4, 8, 32, 32, 3) and ranks.shape == (4, 8)
  _, labels = _first(pipeline.downstream_dataset(
      "synthetic_video_tiny", "validation", "label", slicing=FREQ10,
      frontend=frontend, batch_size=10, data_dir=data_dir))
  assert labels.shape == (10,) and labels.max() < 10


def test_embedded_images_3x3(data_dir):
  slicing = patches_lib.Slicing(nx=3, ny=3, gap=2, jitter=True)
  frontend = frontends.ImageFrontend(size=48)
  patches, ranks = _first(pipeline.pretext_dataset(
      "synthetic_images_tiny", slicing=slicing, frontend=frontend,
      batch_size=4, data_dir=data_dir))
  assert patches.shape == (4, 9, 14, 14, 3) and ranks.shape == (4, 9)
  _, labels = _first(pipeline.downstream_dataset(
      "synthetic_images_tiny", "test", "labels", slicing=slicing,
      frontend=frontend, batch_size=8, data_dir=data_dir))
  assert labels.shape == (8, 10) and np.all(labels.sum(-1) >= 1)


def test_ssv2_builder_through_mocked_tfds(mock_tfds):
  del mock_tfds
  patches, ranks = _first(pipeline.pretext_dataset(
      "something_something_v2", slicing=FREQ10, batch_size=2,
      frontend=frontends.VideoFrontend(num_frames=20, size=16)))
  assert patches.shape == (2, 20, 16, 16, 3) and ranks.shape == (2, 20)
