"""Examples per second of the input pipelines.

    python benchmarks/input_pipeline.py [--batches=30] [--data_dir=DIR]

Two tables:
1. The audio front end: a 4 s, 16 kHz waveform to an 80-band log-mel
   spectrogram, with `tf.signal` (what `s2l.data.frontends` uses) and with
   tensorflow-io (`tfio.audio.spectrogram` + `melscale`), in a tf.data map
   with AUTOTUNE parallelism.
2. Each embedded pretext pipeline (synthetic notes with 10 frequency bands,
   synthetic video with 20 frames, synthetic images cut 3×3), with and without
   caching the front-end outputs, batch 32, AUTOTUNE and prefetch. The data
   sets are generated in --data_dir on first use.
"""

import time

from absl import app
from absl import flags
import tensorflow as tf
import tensorflow_io as tfio

from s2l.data import frontends
from s2l.data import patches as patches_lib
from s2l.data import pipeline
from s2l.data import sources

_BATCHES = flags.DEFINE_integer("batches", 30, "Batches timed per cell.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data directory.")

AUTOTUNE = tf.data.AUTOTUNE


def _examples_per_second(ds: tf.data.Dataset, batches: int,
                         batch_size: int, warmup: int = 1) -> float:
  iterator = iter(ds)
  for _ in range(warmup):  # Tracing, file opening, filling the cache.
    next(iterator)
  start = time.perf_counter()
  for _ in range(batches):
    next(iterator)
  return batches * batch_size / (time.perf_counter() - start)


def _tfio_log_mel(audio, config: frontends.AudioFrontend):
  spectrogram = tfio.audio.spectrogram(
      audio, nfft=512, window=config.frame_length, stride=config.frame_step)
  mel = tfio.audio.melscale(spectrogram, rate=config.sample_rate,
                            mels=config.num_mel_bins,
                            fmin=config.lower_edge_hz,
                            fmax=config.sample_rate / 2)
  return tf.transpose(tf.math.log(mel + config.log_offset))[..., None]


def frontend_table(batches: int) -> None:
  config = frontends.AudioFrontend()
  waves = tf.random.stateless_normal([256, 64000], [0, 1])
  print("| audio front end (4 s -> 80 mel bands) | examples/s |\n|---|---|")
  for name, fn in [("tf.signal (s2l)", config),
                   ("tensorflow-io", lambda a: _tfio_log_mel(a, config))]:
    ds = (tf.data.Dataset.from_tensor_slices(waves).repeat()
          .map(fn, num_parallel_calls=AUTOTUNE).batch(32).prefetch(AUTOTUNE))
    print(f"| {name} | {_examples_per_second(ds, batches, 32):.0f} |",
          flush=True)


def pretext_table(batches: int, data_dir) -> None:
  cells = [
      ("synthetic_notes", patches_lib.Slicing(nx=1, ny=10), None),
      ("synthetic_video", patches_lib.Slicing(nx=1, ny=2),
       frontends.VideoFrontend(num_frames=20, size=64)),
      ("synthetic_images", patches_lib.Slicing(nx=3, ny=3, gap=6,
                                               jitter=True), None),
  ]
  print("\n| pretext pipeline | patches | cache | examples/s |\n|---|---|---|---|")
  for name, slicing, frontend in cells:
    for cache in (False, True):
      ds = pipeline.pretext_dataset(name, slicing=slicing, frontend=frontend,
                                    batch_size=32, cache=cache,
                                    data_dir=data_dir)
      shape = tuple(ds.element_spec[0].shape[1:])
      # With a cache, time the steady state: after one pass over the split.
      size = sources.get(name).builder(data_dir).info.splits["train"]
      warmup = size.num_examples // 32 + 2 if cache else 1
      rate = _examples_per_second(ds, batches, 32, warmup)
      print(f"| {name} | {shape} | {cache} | {rate:.0f} |", flush=True)


def main(argv):
  del argv
  frontend_table(_BATCHES.value)
  pretext_table(_BATCHES.value, _DATA_DIR.value)


if __name__ == "__main__":
  app.run(main)
