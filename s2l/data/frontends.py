"""Modality front ends: raw examples to image-like tensors (paper section 2.3).

Pure functions of tensors, usable eagerly and inside `tf.data` maps (graph
mode, no Python per example):

* audio: a waveform to a log-compressed magnitude spectrogram, linear or mel,
  laid out as an image `[freq, time, 1]` with row 0 the lowest frequency, so
  that "frequency bands" are horizontal stripes (rows) and "time frames" are
  vertical stripes (columns), as in the paper's figure 1;
* images: uint8 to float32 in [0, 1], resized and cropped to a square;
* video: `num_frames` frames sampled uniformly along the clip, in order, and
  resized.

The spectrogram uses `tf.signal` rather than tensorflow-io. Both compute
the same STFT at the same speed here, within noise
(`benchmarks/input_pipeline.py`, 4 s clips on 2 cores: 4,059 vs 4,321
examples/s in one run, 4,219 vs 3,975 in another), so the choice goes to the
one that also runs under XLA and on GPU/TPU (tfio's kernels are CPU-only).
Caching the spectrograms (`cache=True` in the pipeline) matters far more:
about 12× on the synthetic notes.
"""

import dataclasses
from typing import Optional

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class AudioFrontend:
  """Log-compressed spectrogram settings.

  Attributes:
    sample_rate: Hz of the input waveform.
    frame_length: STFT window, samples (512 = 32 ms at 16 kHz).
    frame_step: hop between frames, samples.
    fft_length: FFT size; None for the next power of two >= frame_length.
    num_mel_bins: mel bands, or None for the linear-frequency magnitude STFT
      (fft_length // 2 + 1 bins).
    lower_edge_hz: lowest mel band edge.
    upper_edge_hz: highest mel band edge; None for sample_rate / 2.
    log_offset: added before the log, to bound it below.
  """
  sample_rate: int = 16000
  frame_length: int = 512
  frame_step: int = 256
  fft_length: Optional[int] = None
  num_mel_bins: Optional[int] = 80
  lower_edge_hz: float = 40.0
  upper_edge_hz: Optional[float] = None
  log_offset: float = 1e-6

  def __post_init__(self):
    if self.frame_length <= 0 or self.frame_step <= 0:
      raise ValueError("frame_length and frame_step must be > 0, got "
                       f"{self.frame_length} and {self.frame_step}.")
    if self.num_mel_bins is not None and self.num_mel_bins <= 0:
      raise ValueError(f"num_mel_bins must be > 0 or None, got "
                       f"{self.num_mel_bins}.")
    if self.log_offset <= 0:
      raise ValueError(f"log_offset must be > 0, got {self.log_offset}.")

  def __call__(self, audio: tf.Tensor) -> tf.Tensor:
    return log_spectrogram(audio, self)


def log_spectrogram(audio: tf.Tensor,
                    config: AudioFrontend = AudioFrontend()) -> tf.Tensor:
  """Waveform to a log-magnitude spectrogram image.

  One waveform in a `tf.data` map (the front end on the host), or a batch of
  them inside the model (`s2l.data.model_inputs`, on the accelerator): the
  same ops, each example computed independently of the others.

  Args:
    audio: [..., num_samples] float waveforms (int16 is rescaled to [-1, 1)).
    config: the spectrogram settings.

  Returns:
    [..., num_bins, num_frames, 1] float32, row 0 the lowest frequency.
  """
  audio = tf.convert_to_tensor(audio)
  if audio.dtype == tf.int16:
    audio = tf.cast(audio, tf.float32) / 32768.0
  audio = tf.cast(audio, tf.float32)
  fft_length = config.fft_length
  if fft_length is None:
    fft_length = 1 << (config.frame_length - 1).bit_length()
  magnitude = tf.abs(tf.signal.stft(
      audio, config.frame_length, config.frame_step, fft_length,
      pad_end=False))
  if config.num_mel_bins is not None:
    weights = tf.signal.linear_to_mel_weight_matrix(
        config.num_mel_bins, fft_length // 2 + 1, config.sample_rate,
        config.lower_edge_hz, config.upper_edge_hz or config.sample_rate / 2)
    magnitude = tf.tensordot(magnitude, weights, 1)
  log_magnitude = tf.math.log(magnitude + config.log_offset)
  return tf.linalg.matrix_transpose(log_magnitude)[..., None]


@dataclasses.dataclass(frozen=True)
class ImageFrontend:
  """Square images: resize the shorter side, then crop (paper: 128×128).

  Attributes:
    size: output height and width.
    random_crop: crop at a random position (training) instead of the centre.
  """
  size: int = 128
  random_crop: bool = False

  def __post_init__(self):
    if self.size <= 0:
      raise ValueError(f"size must be > 0, got {self.size}.")

  def __call__(self, image: tf.Tensor, seed=None) -> tf.Tensor:
    return square_image(image, self.size, self.random_crop, seed)


def square_image(image: tf.Tensor, size: int, random_crop: bool = False,
                 seed=None) -> tf.Tensor:
  """uint8 or float image [H, W, C] to float32 [size, size, C] in [0, 1].

  Args:
    image: [H, W, C]; uint8 is scaled to [0, 1].
    size: output side.
    random_crop: crop at a random position, from the stateless `seed`
      (shape [2] int), instead of the centre.
    seed: required when random_crop is True.

  Returns:
    [size, size, C] float32.
  """
  image = tf.image.convert_image_dtype(image, tf.float32)
  shape = tf.shape(image)
  scale = size / tf.cast(tf.minimum(shape[0], shape[1]), tf.float32)
  new_hw = tf.maximum(
      tf.cast(tf.math.ceil(tf.cast(shape[:2], tf.float32) * scale), tf.int32),
      size)
  image = tf.image.resize(image, new_hw, antialias=True)
  channels = image.shape[-1]
  if random_crop:
    if seed is None:
      raise ValueError("random_crop needs a stateless seed.")
    image = tf.image.stateless_random_crop(
        image, [size, size, channels or shape[2]], seed)
  else:
    top = (new_hw[0] - size) // 2
    left = (new_hw[1] - size) // 2
    image = image[top:top + size, left:left + size]
  # Antialiased resizing can overshoot [0, 1] slightly.
  return tf.ensure_shape(tf.clip_by_value(image, 0.0, 1.0),
                         [size, size, channels])


@dataclasses.dataclass(frozen=True)
class VideoFrontend:
  """Uniformly sampled, resized frames (paper: 20 frames).

  Attributes:
    num_frames: T, frames kept per clip.
    size: output height and width of each frame.
  """
  num_frames: int = 20
  size: int = 64

  def __post_init__(self):
    if self.num_frames <= 0 or self.size <= 0:
      raise ValueError("num_frames and size must be > 0, got "
                       f"{self.num_frames} and {self.size}.")

  def __call__(self, video: tf.Tensor) -> tf.Tensor:
    frames = sample_frames(video, self.num_frames)
    frames = tf.image.convert_image_dtype(frames, tf.float32)
    return tf.image.resize(frames, [self.size, self.size], antialias=True)


def frame_indices(clip_length: tf.Tensor, num_frames: int) -> tf.Tensor:
  """Indices of `num_frames` frames spread uniformly over a clip, in order.

  Frame k is the one nearest to position k·(L − 1)/(T − 1), so the first and
  last frames are always kept. A clip shorter than T repeats frames (each
  index still non-decreasing): its shuffled copies then hold identical
  frames, any order of which is right, so such clips are best filtered out
  for pre-training.

  Args:
    clip_length: L >= 1, scalar int.
    num_frames: T >= 1.

  Returns:
    [T] int32, non-decreasing, in [0, L).
  """
  clip_length = tf.cast(clip_length, tf.float32)
  if num_frames == 1:
    return tf.zeros([1], tf.int32)
  positions = tf.linspace(0.0, clip_length - 1.0, num_frames)
  return tf.cast(tf.round(positions), tf.int32)


def sample_frames(video: tf.Tensor, num_frames: int) -> tf.Tensor:
  """[L, H, W, C] -> [num_frames, H, W, C], uniformly along the clip."""
  indices = frame_indices(tf.shape(video)[0], num_frames)
  return tf.gather(video, indices)
