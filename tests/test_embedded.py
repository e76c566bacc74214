"""Tests for s2l/datasets/embedded.py."""

import numpy as np
import pytest
import tensorflow as tf

from s2l.datasets import embedded


def test_example_rng_is_a_function_of_seed_split_and_index():
  draw = lambda *key: embedded.example_rng(*key).integers(1 << 30, size=4)
  np.testing.assert_array_equal(draw(3, "train", 7), draw(3, "train", 7))
  np.testing.assert_array_equal(  # The stream the data sets were built with.
      draw(3, "test", 7),
      np.random.default_rng([3, 2, 7]).integers(1 << 30, size=4))
  others = [draw(4, "train", 7), draw(3, "validation", 7), draw(3, "train", 8)]
  assert all(not np.array_equal(draw(3, "train", 7), o) for o in others)


def test_check_split_counts():
  embedded.check_split_counts({"train": 2, "validation": 1, "test": 1})
  with pytest.raises(ValueError, match="positive count for each of"):
    embedded.check_split_counts({"train": 2, "test": 1})
  with pytest.raises(ValueError, match="positive count"):
    embedded.check_split_counts({"train": 2, "validation": 0, "test": 1})


def test_pcm16_round_trip_and_full_scale():
  audio = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 2.0], np.float32)
  pcm = embedded.to_pcm16(audio)
  assert pcm.dtype == np.int16
  np.testing.assert_array_equal(pcm, [0, 16384, -16384, 32767, -32767, 32767])
  note = np.sin(np.linspace(0, 100, 4000)).astype(np.float32) * 0.9
  np.testing.assert_allclose(embedded.to_pcm16(note) / 32767, note,
                             atol=1 / 32767)


def test_raw_audio_stores_int16_bytes_and_reads_them_back():
  feature = embedded.RawAudio(shape=(5,), dtype=np.int16, sample_rate=16000)
  pcm = np.array([0, 1, -1, 32767, -32768], np.int16)
  encoded = feature.encode_example(pcm)
  assert encoded == pcm.tobytes()
  np.testing.assert_array_equal(
      feature.decode_example(tf.constant(encoded)).numpy(), pcm)
