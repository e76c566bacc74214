"""Examples per second of the input pipelines.

    python benchmarks/input_pipeline.py [--batches=30] [--steps=30]
        [--tables=frontend,pretext,placement] [--config=gin/...] [--data_dir=DIR]

Three tables:
1. The audio front end: a 4 s, 16 kHz waveform to an 80-band log-mel
   spectrogram, with `tf.signal` (what `s2l.data.frontends` uses) and with
   tensorflow-io (`tfio.audio.spectrogram` + `melscale`), in a tf.data map
   with AUTOTUNE parallelism.
2. Each embedded pretext pipeline (synthetic notes with 10 frequency bands,
   synthetic video with 20 frames, synthetic images cut 3×3), with and without
   caching the front-end outputs, batch 32, AUTOTUNE and prefetch. The data
   sets are generated in --data_dir on first use.
3. Where the audio front end runs (`train.frontend_placement`), for --config
   (the embedded notes, 10 bands, by default) built by `s2l.training.train`
   itself, uncached: the examples/s that tf.data delivers with the front end,
   patches and permutations on the host ("data") or shipping raw waveforms
   and seeds ("model"), beside the examples/s that the training step
   consumes when fed those batches (one real batch repeated from memory, as
   in `train_step.py`: precomputed patches, or raw audio that the step turns
   into patches itself). Pipeline and step are timed apart, each with the
   whole machine; on a CPU the step with the front end inside runs the STFT
   on the same cores, on an accelerator it runs it there. A pipeline ÷ step
   ratio below 1 means the accelerator would wait for its data.
"""

import os
import tempfile
import time

from absl import app
from absl import flags
from absl import logging
import gin
import tensorflow as tf
import tensorflow_io as tfio

from s2l import configurables
from s2l import training
from s2l.data import frontends
from s2l.data import model_inputs
from s2l.data import patches as patches_lib
from s2l.data import pipeline
from s2l.data import sources

_BATCHES = flags.DEFINE_integer("batches", 30, "Batches timed per cell.")
_STEPS = flags.DEFINE_integer("steps", 30, "Training steps timed per "
                              "placement.")
_TABLES = flags.DEFINE_list("tables", ["frontend", "pretext", "placement"],
                            "Which tables to print.")
_CONFIG = flags.DEFINE_string("config", "gin/synthetic_notes_freq10.gin",
                              "Gin config of the placement table.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data directory.")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

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


def _built_run(config: str, bindings):
  """The model and training data that `training.train` builds for a config.

  As in `train_step.py`: `fit()` is intercepted, so the run is built exactly
  as a real one and not trained.
  """
  gin.clear_config()
  configurables.parse_gin([os.path.join(ROOT, config)], bindings)
  captured = {}
  original_fit = tf.keras.Model.fit

  def capture(model, data, **kwargs):
    del kwargs
    captured["model"], captured["data"] = model, data
    return tf.keras.callbacks.History()

  tf.keras.Model.fit = capture
  try:
    with tempfile.TemporaryDirectory() as model_dir:
      training.train(model_dir, train_steps=_STEPS.value,
                     steps_per_checkpoint=_STEPS.value)
  finally:
    tf.keras.Model.fit = original_fit
  return captured["model"], captured["data"]


def _train_step_rate(model, batch, steps: int) -> float:
  """Examples/s of the compiled training step on one batch from memory."""
  iterator = iter(tf.data.Dataset.from_tensors(batch).repeat())
  step = model.make_train_function()
  for _ in range(3):  # Tracing and warm-up.
    step(iterator)
  start = time.perf_counter()
  for _ in range(steps):
    step(iterator)
  return steps * _batch_size(batch) / (time.perf_counter() - start)


def _batch_size(batch) -> int:
  return int(tf.nest.flatten(batch)[0].shape[0])


def placement_table(batches: int, steps: int, config: str, data_dir) -> None:
  rates = {}
  for placement in model_inputs.PLACEMENTS:
    bindings = [f"train.frontend_placement = '{placement}'",
                "train.cache = False"]
    if data_dir:
      bindings.append(f"train.data_dir = '{data_dir}'")
    model, data = _built_run(config, bindings)
    iterator = iter(data)
    batch = next(iterator)  # Also fills the shuffle buffer.
    batch_size = _batch_size(batch)
    start = time.perf_counter()
    for _ in range(batches):
      next(iterator)
    pipeline_rate = batches * batch_size / (time.perf_counter() - start)
    del iterator
    rates[placement] = (pipeline_rate, _train_step_rate(model, batch, steps))
    print(f"  ({placement}: pipeline {pipeline_rate:.0f}, training step "
          f"{rates[placement][1]:.0f} examples/s)", flush=True)
  what = {"data": "tf.data (log-mel, patches, permutations on the host)",
          "model": "model (tf.data ships raw audio and seeds)"}
  print(f"\n{config}, uncached, {batches} batches and {steps} steps timed, "
        f"{tf.config.list_physical_devices()[-1].device_type}\n")
  print("| front end placement | input pipeline examples/s | training step "
        "examples/s | pipeline ÷ step |\n|---|---|---|---|")
  for placement, (pipe, step) in rates.items():
    print(f"| {what[placement]} | {pipe:.0f} | {step:.0f} | "
          f"{pipe / step:.2f} |")
  (data_pipe, data_step), (model_pipe, model_step) = (rates["data"],
                                                       rates["model"])
  print(f"| model ÷ data | {model_pipe / data_pipe:.2f} | "
        f"{model_step / data_step:.2f} | |")


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)  # train()'s build log.
  if "frontend" in _TABLES.value:
    frontend_table(_BATCHES.value)
  if "pretext" in _TABLES.value:
    pretext_table(_BATCHES.value, _DATA_DIR.value)
  if "placement" in _TABLES.value:
    placement_table(_BATCHES.value, _STEPS.value, _CONFIG.value,
                    _DATA_DIR.value)


if __name__ == "__main__":
  app.run(main)
