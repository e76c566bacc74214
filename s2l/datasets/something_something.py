"""TFDS builder for something-something v2, the video data set of section 3.2.

The paper permutes 20 frames sampled uniformly along each video and probes the
frozen encoder on the 174 action labels of something-something v2 (Goyal et
al., 2017). TFDS does not ship this data set and its licence requires a manual
download, so this module holds `SomethingSomethingV2`, a builder that reads the
official release from `manual_dir`, decodes each `.webm` once at build time
with PyAV (which bundles FFmpeg with VP8/VP9 decoders) and stores the frames
resized to the config's size. Reading the prepared data set is then plain
`tfds.load("something_something_v2/128", ...)` with no video decoding in the
`tf.data` path; frame sampling belongs to the input pipeline, not here.

    import s2l.datasets.something_something  # Registers the builder.
    builder = tfds.builder("something_something_v2/128", data_dir=...)
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
        manual_dir="/path/to/ssv2"))
"""

import dataclasses
import json
import os
from typing import Optional

from absl import logging
import numpy as np
import tensorflow_datasets as tfds

NUM_CLASSES = 174
_VIDEO_DIR = "20bn-something-something-v2"
_LABELS_DIR = "labels"
_LABEL_MAP_FILE = "something-something-v2-labels.json"
_SPLIT_FILES = {
    "train": "something-something-v2-train.json",
    "validation": "something-something-v2-validation.json",
}
_ON_ERROR = ("raise", "skip")

_MANUAL_DOWNLOAD_INSTRUCTIONS = f"""\
Download something-something v2 from Qualcomm (formerly 20BN):
https://developer.qualcomm.com/software/ai-datasets/something-something
Join the downloaded parts and extract them, then put in `manual_dir`:

  {_VIDEO_DIR}/<id>.webm         the 220,847 videos
  {_LABELS_DIR}/{_LABEL_MAP_FILE}      template -> class index ("0".."173")
  {_LABELS_DIR}/{_SPLIT_FILES["train"]}       [{{"id", "label", "template", "placeholders"}}]
  {_LABELS_DIR}/{_SPLIT_FILES["validation"]}  same format

The videos and JSON files may also sit directly in `manual_dir`. The test split
(something-something-v2-test.json) has no labels and is not built.
"""


@dataclasses.dataclass(eq=False)
class SomethingSomethingV2Config(tfds.core.BuilderConfig):
  """How frames are stored.

  Attributes:
    height: Stored frame height in pixels.
    width: Stored frame width in pixels (frames are resized without keeping
      the aspect ratio; the originals are 240 pixels high, of varying width).
    fps: If set, frames are subsampled to at most this rate (the release is
      at 12 fps); None keeps every frame.
    max_frames: If set, only the first `max_frames` kept frames are stored.
    on_error: "raise" (default) stops the build at the first missing or
      undecodable video and names it; "skip" leaves such videos out and logs
      their count and the first few names when the split is done.
  """
  height: int = 128
  width: int = 128
  fps: Optional[float] = None
  max_frames: Optional[int] = None
  on_error: str = "raise"

  def __post_init__(self):
    if self.height <= 0 or self.width <= 0:
      raise ValueError(f"height and width must be positive, got "
                       f"{self.height}x{self.width}.")
    if self.fps is not None and self.fps <= 0:
      raise ValueError(f"fps must be positive or None, got {self.fps}.")
    if self.max_frames is not None and self.max_frames <= 0:
      raise ValueError(
          f"max_frames must be positive or None, got {self.max_frames}.")
    if self.on_error not in _ON_ERROR:
      raise ValueError(
          f"on_error must be one of {_ON_ERROR}, got {self.on_error!r}.")


def _find(manual_dir, subdir, name):
  """Returns the path of `name` under `manual_dir/subdir` or `manual_dir`."""
  for candidate in (os.path.join(manual_dir, subdir, name),
                    os.path.join(manual_dir, name)):
    if os.path.exists(candidate):
      return candidate
  return None


def _class_name(template: str) -> str:
  """Label-map key of a template: "Putting [something] on [something]"."""
  return template.replace("[", "").replace("]", "")


def decode_video(path: str, height: int, width: int,
                 fps: Optional[float] = None,
                 max_frames: Optional[int] = None) -> np.ndarray:
  """Decodes a video file into resized RGB frames.

  Args:
    path: A video file FFmpeg can read (here VP8/VP9 `.webm`).
    height: Output frame height.
    width: Output frame width.
    fps: If set, keeps the first frame at or after each multiple of 1/fps
      seconds; None keeps every frame.
    max_frames: If set, stops after this many kept frames.

  Returns:
    [num_frames, height, width, 3] uint8.

  Raises:
    ValueError: If the file cannot be opened or decoded, or holds no video
      frame; the message names the file and FFmpeg's complaint.
  """
  # Only building needs PyAV; reading a prepared data set does not.
  import av  # pylint: disable=g-import-not-at-top
  try:
    frames = _decode_frames(av, path, height, width, fps, max_frames)
  except av.error.FFmpegError as e:
    raise ValueError(f"FFmpeg cannot read {path}: {e}") from e
  if not frames:
    raise ValueError(f"{path} decoded to no frames.")
  return np.stack(frames)


def _decode_frames(av, path, height, width, fps, max_frames):
  """Returns the kept frames of `path` as a list of [h, w, 3] uint8."""
  frames = []
  next_time = 0.0
  with av.open(path) as container:
    if not container.streams.video:
      raise ValueError(f"{path} has no video stream.")
    stream = container.streams.video[0]
    rate = float(stream.average_rate or 12)
    for index, frame in enumerate(container.decode(stream)):
      if fps is not None:
        time = frame.time if frame.time is not None else index / rate
        # A small tolerance so that rounded timestamps on the grid are kept.
        if time + 1e-6 < next_time:
          continue
        next_time += 1.0 / fps
      # AREA averages the pixels a shrunken frame covers instead of aliasing.
      frames.append(frame.to_ndarray(
          format="rgb24", width=width, height=height, interpolation="AREA"))
      if max_frames is not None and len(frames) >= max_frames:
        break
  return frames


class SomethingSomethingV2(tfds.core.GeneratorBasedBuilder):
  """something-something v2: 174 actions on objects, train and validation."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Initial release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = _MANUAL_DOWNLOAD_INSTRUCTIONS
  BUILDER_CONFIGS = [
      SomethingSomethingV2Config(
          name="128", description="All frames at 128x128."),
      SomethingSomethingV2Config(
          name="112", height=112, width=112,
          description="All frames at 112x112."),
  ]

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    return self.dataset_info_from_configs(
        description=(
            "Videos of humans performing 174 basic actions with everyday "
            "objects, decoded and resized at build time."),
        features=tfds.features.FeaturesDict({
            # JPEG frames are several times smaller than PNG; the slight loss
            # does not matter for frame ordering or action probes.
            "video": tfds.features.Video(
                shape=(None, config.height, config.width, 3),
                encoding_format="jpeg", dtype=np.uint8),
            # Names need the manual files, which _info cannot read; the
            # class names are the `template` feature of each example.
            "label": tfds.features.ClassLabel(num_classes=NUM_CLASSES),
            "id": tfds.features.Text(),
            # The template without brackets, i.e. the key of the label map.
            "template": tfds.features.Text(),
        }),
        supervised_keys=("video", "label"),
        homepage="https://developer.qualcomm.com/software/ai-datasets/something-something",
        citation="""@inproceedings{goyal2017something,
  title={The "something something" video database for learning and evaluating visual common sense},
  author={Goyal, Raghav and others},
  booktitle={ICCV},
  year={2017}}""",
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    manual_dir = os.fspath(dl_manager.manual_dir)
    label_map_path = _find(manual_dir, _LABELS_DIR, _LABEL_MAP_FILE)
    split_paths = {split: _find(manual_dir, _LABELS_DIR, name)
                   for split, name in _SPLIT_FILES.items()}
    video_dir = os.path.join(manual_dir, _VIDEO_DIR)
    if not os.path.isdir(video_dir):
      video_dir = manual_dir
    missing = [os.path.join(manual_dir, _LABELS_DIR, name)
               for name, path in [(_LABEL_MAP_FILE, label_map_path)] + [
                   (_SPLIT_FILES[s], p) for s, p in split_paths.items()]
               if path is None]
    if missing:
      raise FileNotFoundError(
          "something-something v2 label files missing: " + ", ".join(missing)
          + f" (they may also sit directly in {manual_dir}).\n"
          + _MANUAL_DOWNLOAD_INSTRUCTIONS)
    label_map = self._read_label_map(label_map_path)
    available = {name[:-len(".webm")] for name in os.listdir(video_dir)
                 if name.endswith(".webm")}
    if not available:
      raise FileNotFoundError(
          f"No .webm video in {os.path.join(manual_dir, _VIDEO_DIR)} nor in "
          f"{manual_dir}.\n" + _MANUAL_DOWNLOAD_INSTRUCTIONS)
    return {
        split: self._generate_examples(
            self._read_split(path, label_map, available, video_dir),
            video_dir)
        for split, path in split_paths.items()
    }

  def _read_label_map(self, path):
    """Returns {class name: index} after checking the indices."""
    with open(path) as f:
      label_map = {name: int(index) for name, index in json.load(f).items()}
    bad = {n: i for n, i in label_map.items() if not 0 <= i < NUM_CLASSES}
    if bad:
      raise ValueError(f"{path} has class indices outside [0, {NUM_CLASSES}): "
                       f"{sorted(bad.items())[:5]}. Is it the v2 label map?")
    return label_map

  def _read_split(self, path, label_map, available, video_dir):
    """Returns [(id, template, label)] of a split, checking each entry."""
    with open(path) as f:
      entries = json.load(f)
    rows, unknown, missing = [], [], []
    for entry in entries:
      template = _class_name(entry["template"])
      if template not in label_map:
        unknown.append((entry["id"], entry["template"]))
      elif entry["id"] not in available:
        missing.append(entry["id"])
      else:
        rows.append((entry["id"], template, label_map[template]))
    if unknown:
      raise ValueError(
          f"{len(unknown)} entries of {path} have a template missing from the "
          f"label map, e.g. {unknown[:3]}. Use the labels file of the same "
          "release.")
    if missing:
      message = (f"{len(missing)} of {len(entries)} videos listed in {path} are "
                 f"not in {video_dir}, e.g. "
                 + ", ".join(f"{i}.webm" for i in missing[:5]))
      if self.builder_config.on_error == "raise":
        raise FileNotFoundError(
            message + ". Extract all parts of the release there, or use a "
            "config with on_error='skip' to leave them out.")
      logging.warning("%s; skipping them (on_error='skip').", message)
    return rows

  def _generate_examples(self, rows, video_dir):
    """Yields (id, example) after decoding each video."""
    config = self.builder_config
    skipped = []
    for video_id, template, label in rows:
      path = os.path.join(video_dir, video_id + ".webm")
      try:
        video = decode_video(path, config.height, config.width, config.fps,
                             config.max_frames)
      except ValueError as e:
        if config.on_error == "raise":
          raise ValueError(
              f"{e}. Replace the file from the release, "
              "or use a config with on_error='skip' to leave it out.") from e
        skipped.append(f"{video_id}.webm ({e})")
        continue
      yield video_id, {"video": video, "label": label, "id": video_id,
                       "template": template}
    if skipped:
      logging.warning("Skipped %d undecodable videos of %d (on_error='skip'): "
                      "%s", len(skipped), len(rows), "; ".join(skipped[:5]))
