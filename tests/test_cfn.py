"""Tests for s2l/models/cfn.py."""

import numpy as np
import pytest
import tensorflow as tf

from s2l import precision
from s2l.models import cfn


@pytest.mark.parametrize("patch_shape", [(8, 249, 1), (42, 42, 3),
                                         (64, 64, 3), (80, 25, 1)])
def test_builds_for_every_patch_shape(patch_shape):
  model = cfn.context_free_network(9, patch_shape, 9, width=0.1, depth=5)
  out = model(tf.zeros((2, 9) + patch_shape))
  assert out.shape == (2, 9)
  encoder = cfn.embedding_model(model)
  assert encoder(tf.zeros((2, 9) + patch_shape)).shape == (2, 410)


def test_weights_are_shared_and_patch_order_is_seen():
  tf.keras.utils.set_random_seed(0)
  model = cfn.context_free_network(4, (6, 6, 1), 4, width=0.05, depth=2)
  conv_kernels = [w for w in model.trainable_weights if "conv" in w.name
                  and "kernel" in w.name]
  assert len(conv_kernels) == 2  # One encoder for all four patches.
  x = tf.random.stateless_normal((1, 4, 6, 6, 1), [0, 1])
  swapped = tf.gather(x, [1, 0, 2, 3], axis=1)
  # Features are concatenated in patch order, so a swap changes the output.
  assert not np.allclose(model(x).numpy(), model(swapped).numpy())
  # But each patch's features do not depend on the other patches.
  encoder = model.get_layer("shared_encoder")
  np.testing.assert_allclose(encoder(x).numpy()[0, 0],
                             encoder(swapped).numpy()[0, 1], rtol=1e-5)


def test_save_and_load_round_trip(tmp_path):
  model = cfn.context_free_network(3, (8, 10, 1), 3, width=0.05, depth=3)
  x = tf.random.stateless_normal((2, 3, 8, 10, 1), [1, 1])
  model.save(tmp_path / "cfn.keras")
  loaded = tf.keras.models.load_model(tmp_path / "cfn.keras")
  np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-6)
  assert loaded.get_layer(cfn.EMBEDDING_LAYER).units == 205


def test_the_probed_layers_of_a_saved_encoder(tmp_path):
  tf.keras.utils.set_random_seed(0)
  model = cfn.context_free_network(3, (8, 10, 1), 3, width=0.05, depth=2,
                                   embedding_size=64, patch_features=40)
  cfn.embedding_model(model).save(tmp_path / "encoder")
  loaded = tf.keras.models.load_model(tmp_path / "encoder", compile=False)
  x = tf.random.stateless_normal((2, 3, 8, 10, 1), [2, 1])
  assert cfn.probed_model(loaded, "embedding") is loaded
  features = cfn.probed_model(loaded, "patch_features")(x).numpy()
  # Every patch's fc6 features (2 units at width 0.05), side by side in
  # patch order: the shared encoder applied to each patch alone.
  per_patch = model.get_layer("shared_encoder")(x).numpy()
  assert features.shape == (2, 3 * 2) and features.dtype == np.float32
  np.testing.assert_allclose(features, per_patch.reshape(2, -1), rtol=1e-6)
  # The embedding is the dense layer applied to exactly those features.
  dense = model.get_layer(cfn.EMBEDDING_LAYER)
  np.testing.assert_allclose(loaded(x).numpy(), dense(features).numpy(),
                             rtol=1e-5, atol=1e-6)
  with pytest.raises(ValueError, match="evaluate.layer must be one of "
                     r"\['embedding', 'patch_features'\], got 'fc8'"):
    cfn.probed_model(loaded, "fc8")


def test_bad_scale_knobs():
  with pytest.raises(ValueError, match="depth must be between 1 and 5"):
    cfn.context_free_network(3, (8, 8, 1), 3, depth=6)
  with pytest.raises(ValueError, match="width must be > 0"):
    cfn.context_free_network(3, (8, 8, 1), 3, width=0.0)


def test_dropout_acts_in_training_only_and_the_collapse_probe_sees_both():
  model = cfn.context_free_network(3, (8, 8, 1), 3, width=0.25, depth=2,
                                   embedding_size=64, dropout=0.5)
  names = [l.name for l in model.get_layer("shared_encoder").layer.layers]
  assert names[-2:] == ["fc6", "fc6_dropout"]
  x = tf.random.stateless_normal((4, 3, 8, 8, 1), [2, 2])
  np.testing.assert_allclose(model(x, training=False),
                             model(x, training=False))
  assert not np.allclose(model(x, training=True), model(x, training=False))
  outputs = cfn.collapse_probe_model(model)(x, training=False)
  assert outputs["embedding"].shape == (4, 16)
  assert outputs["patch_features"].shape == (4, 3, 128)
  with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\)"):
    cfn.context_free_network(3, (8, 8, 1), 3, dropout=1.0)


@pytest.mark.parametrize("name", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_keeps_scores_and_embeddings_float32(name):
  tf.keras.utils.set_random_seed(0)
  reference = cfn.context_free_network(10, (8, 24, 1), 10, width=0.1,
                                       depth=3, embedding_size=256)
  with precision.policy(name) as policy:
    model = cfn.context_free_network(10, (8, 24, 1), 10, width=0.1, depth=3,
                                     embedding_size=256)
  model.set_weights(reference.get_weights())
  assert model.get_layer("shared_encoder").compute_dtype == policy.compute_dtype
  assert model.get_layer(cfn.EMBEDDING_LAYER).compute_dtype == \
      policy.compute_dtype
  assert {w.dtype for w in model.weights} == {tf.float32}
  x = tf.random.stateless_normal((16, 10, 8, 24, 1), [0, 3])
  scores, expected = model(x), reference(x)
  assert scores.dtype == tf.float32
  # Three convolutions and three dense layers at 8 (bfloat16) or 11
  # (float16) significant bits: within 4 bfloat16 steps of the scores'
  # scale (1.2 of them is seen).
  scale = float(tf.reduce_max(tf.abs(expected)))
  np.testing.assert_allclose(scores.numpy(), expected.numpy(), rtol=0,
                             atol=4 * 2.0**-7 * scale)
  encoder = cfn.embedding_model(model)
  assert encoder(x).dtype == tf.float32
  assert encoder.layers[-1].name == "embedding_float32"
  embedding = cfn.embedding_model(reference)(x)
  np.testing.assert_allclose(encoder(x).numpy(), embedding.numpy(), rtol=0,
                             atol=4 * 2.0**-7 * float(tf.reduce_max(embedding)))
  # A float32 network's encoder ends at the embedding layer itself.
  assert cfn.embedding_model(reference).layers[-1].name == cfn.EMBEDDING_LAYER
