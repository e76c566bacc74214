"""Tests for s2l/data/model_inputs.py: the front end placed in the model."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from s2l import permutations
from s2l.data import frontends
from s2l.data import modalities
from s2l.data import model_inputs
from s2l.data import patches as patches_lib
from s2l.data import pipeline
from s2l.data import shuffling

FRONTEND = frontends.AudioFrontend(frame_step=512)
FREQ10 = patches_lib.Slicing(nx=1, ny=10)
TILES = patches_lib.Slicing(nx=3, ny=3)


@pytest.fixture(name="data_dir", scope="module")
def _data_dir(tmp_path_factory):
  return str(tmp_path_factory.mktemp("tfds"))


def _batches(data_dir, placement, slicing=FREQ10, permutation_set=None,
             batches=2, **kwargs):
  ds = pipeline.pretext_dataset(
      "synthetic_notes_tiny", slicing=slicing, frontend=FRONTEND,
      batch_size=6, seed=5, permutation_set=permutation_set,
      data_dir=data_dir, placement=placement, **kwargs)
  return list(ds.take(batches))


@pytest.mark.parametrize("slicing, fixed_set", [(FREQ10, False),
                                                (TILES, True)])
def test_the_model_makes_the_patches_and_ranks_tf_data_makes(
    data_dir, slicing, fixed_set):
  table = (permutations.FixedPermutationSet.maximal_hamming(9, 20)
           if fixed_set else None)
  layer = model_inputs.PretextInputs(FRONTEND, slicing, table)
  raw = _batches(data_dir, "model", slicing, table)
  assert raw[0][model_inputs.AUDIO].dtype == tf.int16  # PCM, as stored.
  assert raw[0][model_inputs.SEED].shape == (6, 2)
  for (patches, ranks), batch in zip(_batches(data_dir, "data", slicing,
                                              table), raw):
    got_patches, got_ranks = layer(batch)
    # The same permutations (the same draws from the same seeds) ...
    np.testing.assert_array_equal(got_ranks.numpy(), ranks.numpy())
    # ... of the same patches: log-mel values of mean 0 and std 1 per patch.
    assert got_patches.shape == patches.shape
    np.testing.assert_allclose(got_patches.numpy(), patches.numpy(),
                               atol=1e-3)
    if fixed_set:
      members = {tuple(p) for p in table.permutations}
      assert {tuple(r) for r in got_ranks.numpy()} <= members


def test_the_ranks_undo_the_shuffle_the_model_applied(data_dir):
  layer = model_inputs.PretextInputs(FRONTEND, FREQ10)
  (batch,) = _batches(data_dir, "model", batches=1, shuffle_buffer=0,
                      repeat=False)
  shuffled, ranks = layer(batch)
  # The unshuffled patches, computed one waveform at a time on the host path.
  original = tf.stack([
      modalities.AUDIO.make_patches(frontends.log_spectrogram(audio, FRONTEND),
                                    FREQ10)
      for audio in batch[model_inputs.AUDIO]])
  assert not np.allclose(shuffled.numpy(), original.numpy(), atol=0.1)
  np.testing.assert_allclose(shuffling.unshuffle(shuffled, ranks).numpy(),
                             original.numpy(), atol=1e-4)
  # The same examples in the same order as the downstream pipeline's.
  downstream, _ = next(iter(pipeline.downstream_dataset(
      "synthetic_notes_tiny", "train", "pitch", slicing=FREQ10,
      frontend=FRONTEND, batch_size=6, data_dir=data_dir)))
  np.testing.assert_allclose(downstream.numpy(), original.numpy(),
                             atol=1e-4)


def test_compiled_with_xla_it_draws_the_same_permutations(data_dir):
  # XLA's FFT rounds differently (as a GPU's does): the magnitudes agree to
  # float precision of the largest, which the log magnifies in near-silent
  # bins and the standardisation in near-silent bands, so compare
  # unstandardised magnitudes.
  slicing = dataclasses.replace(FREQ10, normalize=False)
  layer = model_inputs.PretextInputs(FRONTEND, slicing)
  (batch,) = _batches(data_dir, "model", batches=1)
  eager_patches, eager_ranks = layer(batch)
  xla_patches, xla_ranks = tf.function(layer, jit_compile=True)(batch)
  np.testing.assert_array_equal(xla_ranks.numpy(), eager_ranks.numpy())
  eager, xla = np.exp(eager_patches.numpy()), np.exp(xla_patches.numpy())
  np.testing.assert_allclose(xla, eager, atol=1e-5 * eager.max())


def test_config_round_trip():
  table = permutations.FixedPermutationSet.maximal_hamming(4, 5)
  layer = model_inputs.PretextInputs(FRONTEND, patches_lib.Slicing(nx=4,
                                                                   ny=1),
                                     table, name="inputs")
  again = model_inputs.PretextInputs.from_config(layer.get_config())
  assert again.frontend == layer.frontend and again.slicing == layer.slicing
  np.testing.assert_array_equal(again.permutation_set.permutations,
                                table.permutations)
  assert again.name == "inputs" and not again.trainable_weights
  assert again.dtype == "float32"
  batch = {model_inputs.AUDIO: tf.random.stateless_normal([2, 8000], [0, 1]),
           model_inputs.SEED: tf.constant([[1, 2], [3, 4]], tf.int64)}
  for a, b in zip(layer(batch), again(batch)):
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_a_mixed_precision_policy_leaves_it_in_float32(data_dir):
  (batch,) = _batches(data_dir, "model", batches=1)
  expected = model_inputs.PretextInputs(FRONTEND, FREQ10)(batch)
  tf.keras.mixed_precision.set_global_policy("mixed_float16")
  try:
    layer = model_inputs.PretextInputs(FRONTEND, FREQ10)
    waves = {**batch, model_inputs.AUDIO: tf.cast(batch[model_inputs.AUDIO],
                                                  tf.float32) / 32768.0}
    patches, ranks = layer(waves)
  finally:
    tf.keras.mixed_precision.set_global_policy("float32")
  assert patches.dtype == tf.float32
  np.testing.assert_array_equal(ranks.numpy(), expected[1].numpy())
  np.testing.assert_allclose(patches.numpy(), expected[0].numpy(), atol=1e-3)


class _RaggedAudio:
  """A source of waveforms of two lengths."""
  name, modality, input_feature = "ragged", "audio", "audio"

  def load(self, split, data_dir=None):
    del split, data_dir
    return tf.data.Dataset.from_generator(
        lambda: ({"audio": np.zeros(n, np.float32)} for n in (8000, 9000)),
        output_signature={"audio": tf.TensorSpec([None], tf.float32)})


def test_what_it_cannot_do_is_refused_naming_the_alternative():
  with pytest.raises(ValueError, match=r"one of \('data', 'model'\), got "
                     "'device'"):
    model_inputs.check_placement("device", "audio")
  with pytest.raises(ValueError, match="modality is 'image'.*'data'"):
    model_inputs.check_placement("model", "image")
  with pytest.raises(ValueError, match="needs an AudioFrontend, got a "
                     "VideoFrontend"):
    model_inputs.check_placement("model", "audio", frontends.VideoFrontend())
  with pytest.raises(ValueError, match="jitter"):
    model_inputs.PretextInputs(FRONTEND, patches_lib.Slicing(
        nx=2, ny=2, gap=2, jitter=True))
  model_inputs.check_placement("data", "video")
  with pytest.raises(ValueError, match="modality is 'image'"):
    pipeline.pretext_dataset("synthetic_images_tiny", slicing=TILES,
                             placement="model")
  with pytest.raises(ValueError, match="must share one length"):
    pipeline.pretext_dataset(_RaggedAudio(), slicing=FREQ10,
                             placement="model")
