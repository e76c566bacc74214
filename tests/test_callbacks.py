"""Tests for s2l/callbacks.py."""

import glob
import logging

import numpy as np
import tensorflow as tf

from s2l import callbacks
from s2l import losses
from s2l import pretext_model
from s2l.models import cfn


def test_grid_image_lays_patches_out_row_major():
  patches = tf.reshape(tf.range(6 * 2 * 3, dtype=tf.float32), [6, 2, 3, 1])
  image = callbacks.grid_image(patches, nx=3, ny=2).numpy()
  assert image.shape == (4, 9, 1)
  assert image.min() == 0.0 and image.max() == 1.0
  raw = image * 35  # undo the [0, 1] scaling of 0..35
  np.testing.assert_allclose(raw[2:, 3:6], patches[4].numpy(), atol=1e-5)
  frames = callbacks.grid_image(tf.zeros([5, 2, 2, 3]), 1, 1)  # video
  assert frames.shape == (2, 10, 3)


def _model(n=4):
  network = cfn.context_free_network(n, (4, 6, 1), n, width=0.02, depth=1)
  model = pretext_model.PretextModel(network, losses.RankMSELoss())
  model.compile(tf.keras.optimizers.Adam(1e-2))
  return model


def _data(n=4, size=16):
  ranks = np.stack([np.random.default_rng(i).permutation(n) + 1
                    for i in range(size)]).astype(np.int32)
  patches = np.random.default_rng(0).normal(size=(size, n, 4, 6, 1))
  return patches.astype(np.float32), ranks


def test_reassembly_and_progress_write_summaries(tmp_path):
  model = _model()
  patches, ranks = _data()
  writer = tf.summary.create_file_writer(str(tmp_path))
  model.fit(patches, ranks, batch_size=4, epochs=1, verbose=0, callbacks=[
      callbacks.Progress(4, every=2, writer=writer),
      callbacks.Reassembly((patches, ranks), 4, 1, writer)])
  writer.flush()
  tags = set()
  for path in glob.glob(str(tmp_path / "events.out.tfevents.*")):
    for event in tf.compat.v1.train.summary_iterator(path):
      tags.update(v.tag for v in event.summary.value)
  assert {"steps_per_second", "learning_rate", "reassembly/shuffled",
          "reassembly/reassembled", "reassembly/original"} <= tags


def test_collapse_measures_the_probed_layer_on_unshuffled_inputs(tmp_path):
  model = _model()
  patches, ranks = _data()
  writer = tf.summary.create_file_writer(str(tmp_path))
  seen = []
  probe_model = cfn.collapse_probe_model(model.network)

  def layers(x, training=False):
    seen.append(x.numpy())
    return probe_model(x, training=training)

  collapse = callbacks.Collapse(layers, [(patches, ranks)], writer)
  collapse.model = model
  collapse.on_epoch_end(0)
  writer.flush()
  # The callback put the patches back in order before embedding them.
  np.testing.assert_array_equal(
      seen[0], callbacks.shuffling.unshuffle(patches, ranks).numpy())
  assert set(collapse.last) == {"embedding", "patch_features"}
  for numbers in collapse.last.values():
    assert 0.0 <= numbers["dead_fraction"] <= 1.0
    assert numbers["effective_dimension"] >= 0.0
  tags = set()
  for path in glob.glob(str(tmp_path / "events.out.tfevents.*")):
    for event in tf.compat.v1.train.summary_iterator(path):
      tags.update(v.tag for v in event.summary.value)
  assert {"collapse/embedding_dead_fraction",
          "collapse/embedding_effective_dimension",
          "collapse/patch_features_dead_fraction"} <= tags


def test_save_checkpoint_numbers_by_step(tmp_path):
  model = _model()
  checkpoint = tf.train.Checkpoint(network=model.network,
                                   optimizer=model.optimizer)
  manager = tf.train.CheckpointManager(checkpoint, str(tmp_path), 5)
  patches, ranks = _data()
  model.fit(patches, ranks, batch_size=4, epochs=2, verbose=0,
            callbacks=[callbacks.SaveCheckpoint(manager)])
  assert [p.rsplit("-", 1)[1] for p in manager.checkpoints] == ["4", "8"]


def test_an_exploding_finite_loss_is_warned_about(caplog):
  guard = callbacks.StopOnNonFinite(window=40)
  with caplog.at_level(logging.WARNING):
    for loss in [1.0] * 40 + [1.5, 2e3, 3e3] + [1.0] * 10 + [5e3]:
      guard.on_train_batch_end(0, {"loss": loss})
  warnings = [r for r in caplog.records if "may be diverging" in r.message]
  # Once for the jump to 2e3; not again within the next 40 batches.
  assert len(warnings) == 1 and "2000" in warnings[0].message
  assert guard.error is None
