"""Tests for s2l/data/frontends.py."""

import numpy as np
import pytest
import tensorflow as tf

from s2l.data import frontends


def _sine(freq, seconds=1.0, rate=16000):
  t = np.arange(int(seconds * rate)) / rate
  return np.sin(2 * np.pi * freq * t).astype(np.float32)


def test_linear_spectrogram_peak_is_at_the_tone():
  config = frontends.AudioFrontend(num_mel_bins=None, frame_length=512,
                                   frame_step=256)
  spec = frontends.log_spectrogram(_sine(1000.0), config)
  assert spec.shape == (257, 1 + (16000 - 512) // 256, 1)
  peak_bin = int(np.argmax(spec.numpy()[:, 10, 0]))
  assert peak_bin == round(1000 * 512 / 16000)  # Row 0 is 0 Hz.


def test_mel_spectrogram_peak_moves_up_with_pitch():
  config = frontends.AudioFrontend(num_mel_bins=80)
  peaks = [int(np.argmax(frontends.log_spectrogram(_sine(f), config)
                         .numpy()[:, 10, 0])) for f in (200, 1000, 4000)]
  assert peaks[0] < peaks[1] < peaks[2]
  int16 = (_sine(1000.0) * 32767).astype(np.int16)
  # int16 is rescaled to [-1, 1): the same magnitudes, up to quantisation.
  from_int16 = np.exp(frontends.log_spectrogram(int16, config).numpy())
  from_float = np.exp(frontends.log_spectrogram(_sine(1000.0), config).numpy())
  np.testing.assert_allclose(from_int16, from_float,
                             atol=1e-3 * from_float.max())


def test_a_batch_of_waveforms_gives_each_spectrogram_alone():
  config = frontends.AudioFrontend(num_mel_bins=40, frame_step=400)
  waves = np.stack([_sine(f, 0.5) for f in (300, 900, 2700)])
  pcm = (waves * 32767).astype(np.int16)
  for batch in (waves, pcm):
    batched = frontends.log_spectrogram(batch, config).numpy()
    assert batched.shape == (3, 40, 1 + (8000 - 512) // 400, 1)
    for wave, spectrogram in zip(batch, batched):
      np.testing.assert_allclose(
          spectrogram, frontends.log_spectrogram(wave, config).numpy(),
          atol=1e-5)
  # Also inside tf.data, as the host placement runs it.
  ds = tf.data.Dataset.from_tensor_slices(waves).map(config).batch(3)
  np.testing.assert_allclose(next(iter(ds)).numpy(),
                             frontends.log_spectrogram(waves, config).numpy(),
                             atol=1e-5)


def test_square_image_resizes_and_crops():
  image = np.tile(np.arange(100, dtype=np.uint8)[None, :, None], (60, 1, 3))
  out = frontends.square_image(image, 30)
  assert out.shape == (30, 30, 3) and out.dtype == tf.float32
  assert 0.0 <= float(tf.reduce_min(out)) <= float(tf.reduce_max(out)) <= 1.0
  # Centre crop of a horizontal ramp: the middle column is the ramp's middle.
  np.testing.assert_allclose(float(out[15, 15, 0]), 50 / 255, atol=3 / 255)
  a = frontends.square_image(image, 30, random_crop=True, seed=[0, 1])
  b = frontends.square_image(image, 30, random_crop=True, seed=[0, 1])
  np.testing.assert_array_equal(a.numpy(), b.numpy())
  with pytest.raises(ValueError, match="seed"):
    frontends.square_image(image, 30, random_crop=True)


def test_frame_indices_are_uniform_and_in_order():
  np.testing.assert_array_equal(frontends.frame_indices(39, 20).numpy(),
                                np.arange(0, 39, 2))
  idx = frontends.frame_indices(100, 20).numpy()
  assert idx[0] == 0 and idx[-1] == 99 and np.all(np.diff(idx) > 0)
  assert np.ptp(np.diff(idx)) <= 1  # evenly spread
  short = frontends.frame_indices(7, 20).numpy()  # documented: repeats
  assert np.all(np.diff(short) >= 0) and set(short) == set(range(7))
  np.testing.assert_array_equal(frontends.frame_indices(1, 4).numpy(),
                                [0, 0, 0, 0])
  np.testing.assert_array_equal(frontends.frame_indices(9, 1).numpy(), [0])


def test_video_frontend_in_tf_data_matches_eager():
  video = tf.cast(tf.random.stateless_uniform([30, 24, 32, 3], [3, 4],
                                              maxval=255), tf.uint8)
  frontend = frontends.VideoFrontend(num_frames=20, size=16)
  eager = frontend(video)
  assert eager.shape == (20, 16, 16, 3)
  ds = tf.data.Dataset.from_tensors(video).map(frontend)
  np.testing.assert_allclose(next(iter(ds)).numpy(), eager.numpy(), atol=1e-6)
  # In order: frame k of the output comes from frame round(k·29/19).
  first = frontends.VideoFrontend(num_frames=20, size=24)(video[:, :, :24])
  np.testing.assert_allclose(
      first[5].numpy(),
      tf.image.convert_image_dtype(video[round(5 * 29 / 19), :, :24],
                                   tf.float32).numpy(), atol=1e-5)


def test_bad_settings():
  with pytest.raises(ValueError, match="log_offset"):
    frontends.AudioFrontend(log_offset=0.0)
  with pytest.raises(ValueError, match="num_frames"):
    frontends.VideoFrontend(num_frames=0)
