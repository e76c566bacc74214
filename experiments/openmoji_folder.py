"""Writes a folder of someone else's labelled images: OpenMoji's colour emoji.

    npm pack openmoji@17.0.0          # openmoji-17.0.0.tgz, from npm's registry
    pip install cairosvg              # to rasterise its SVGs (needs libcairo)
    python experiments/openmoji_folder.py --package=openmoji-17.0.0.tgz \
        --output_dir=OPENMOJI

OpenMoji (CC BY-SA 4.0, the HfG Schwäbisch Gmünd's open emoji) draws every
Unicode emoji, and some of its own, in colour, in a style of its own; its
npm package ships one SVG per emoji and `data/openmoji.csv`, which names each
emoji's group and tags. The folder holds `img/<hexcode>.png` (SIZE × SIZE,
on white) and `manifest.csv` with the columns

    path,group,tags
    img/1F98A.png,animals-nature,animal;face

- `group`: OpenMoji's group (smileys-emotion, animals-nature, flags,
  extras-openmoji, ...), one class per image.
- `tags`: the emoji's tags among the `num_tags` most frequent ones of the
  kept emoji, `;`-separated (possibly none): a multi-label task, as VOC's.

Skin-tone variants are left out (they repeat their base emoji's drawing
across splits), and so is the `component` group (hair and skin swatches).
There is no split column: `ImageFolder` splits by a hash of each path. The
folder is what `gin/sources/image_folder.gin` reads (the README's worked
example; results/README.md has the measured run).
"""

import argparse
import collections
import csv
import io
import os
import sys
import tarfile
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from s2l.datasets import folder  # pylint: disable=wrong-import-position

CSV_MEMBER = "package/data/openmoji.csv"
SVG_MEMBER = "package/color/svg/{hexcode}.svg"
LEFT_OUT_GROUPS = ("component",)


def _tags(row: Dict[str, str]) -> List[str]:
  return [t.strip() for t in row["tags"].split(",") if t.strip()]


def manifest_rows(rows: Sequence[Dict[str, str]], have_svg: Callable[[str],
                                                                     bool],
                  num_tags: int) -> Tuple[List[Dict[str, str]], List[str]]:
  """(manifest rows {"path", "group", "tags"}, the tags kept).

  Args:
    rows: openmoji.csv's rows (hexcode, group, tags, skintone, ...).
    have_svg: whether the package holds a hexcode's colour SVG.
    num_tags: how many of the most frequent tags become classes (ties are
      broken by name, so the choice does not depend on row order).
  """
  kept = [r for r in rows if not r["skintone"]
          and r["group"] not in LEFT_OUT_GROUPS and have_svg(r["hexcode"])]
  if not kept:
    raise ValueError("no emoji to write: the package holds none of "
                     "openmoji.csv's base emoji as colour SVGs.")
  counts = collections.Counter(t for r in kept for t in set(_tags(r)))
  tags = sorted(sorted(counts), key=lambda t: -counts[t])[:num_tags]
  out = [{"path": f"img/{r['hexcode']}.png", "group": r["group"],
          "tags": ";".join(t for t in tags if t in _tags(r))}
         for r in kept]
  return out, tags


def on_white(rgba: Image.Image) -> Image.Image:
  """An RGBA picture composed over white, as RGB (its transparent pixels
  would otherwise read as black)."""
  white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
  return Image.alpha_composite(white, rgba.convert("RGBA")).convert("RGB")


def _rasteriser(size: int) -> Callable[[bytes], Image.Image]:
  try:
    import cairosvg  # pylint: disable=import-outside-toplevel
  except ImportError as e:  # Not a dependency of s2l: only this script's.
    raise SystemExit("experiments/openmoji_folder.py rasterises SVGs with "
                     "cairosvg: pip install cairosvg (it needs libcairo, "
                     f"e.g. apt-get install libcairo2). ({e})") from e
  def rasterise(svg: bytes) -> Image.Image:
    png = cairosvg.svg2png(bytestring=svg, output_width=size,
                           output_height=size)
    return on_white(Image.open(io.BytesIO(png)))
  return rasterise


def write_folder(package: str, output_dir: str, size: int = 64,
                 num_tags: int = 20,
                 rasterise: Optional[Callable[[bytes], Image.Image]] = None
                 ) -> Dict:
  """Writes OUTPUT_DIR/img/*.png and manifest.csv; returns a summary
  {"images", "groups": {group: count}, "tags": [...], "skipped": {hexcode:
  why}} (emoji the rasteriser failed on are left out of the manifest)."""
  rasterise = rasterise or _rasteriser(size)
  with tarfile.open(package) as tar:
    names = set(tar.getnames())
    if CSV_MEMBER not in names:
      raise ValueError(f"{package} has no {CSV_MEMBER}: is it the openmoji "
                       "npm package (npm pack openmoji)?")
    text = tar.extractfile(CSV_MEMBER).read().decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    out, tags = manifest_rows(
        rows, lambda h: SVG_MEMBER.format(hexcode=h) in names, num_tags)
    os.makedirs(os.path.join(output_dir, "img"), exist_ok=True)
    written, skipped = [], {}
    for i, row in enumerate(out):
      hexcode = os.path.splitext(os.path.basename(row["path"]))[0]
      svg = tar.extractfile(SVG_MEMBER.format(hexcode=hexcode)).read()
      try:
        image = rasterise(svg)
      except Exception as e:  # pylint: disable=broad-except
        # The rasteriser's own failure on one drawing (cairosvg does not
        # read every SVG feature): leave that emoji out, and say so.
        skipped[hexcode] = f"{type(e).__name__}: {e}"
        continue
      if np.ptp(np.asarray(image)) == 0:
        raise ValueError(f"{hexcode}.svg rasterises to one colour: is "
                         "the rasteriser working?")
      image.save(os.path.join(output_dir, row["path"]))
      written.append(row)
      if (i + 1) % 500 == 0:
        print(f"{i + 1}/{len(out)} images", file=sys.stderr)
  if not written:
    raise ValueError(f"no emoji could be rasterised: {skipped}")
  out = written
  # Last: a folder with a manifest is a complete one.
  folder.write_manifest(os.path.join(output_dir, "manifest.csv"),
                        ("path", "group", "tags"), out)
  return {"images": len(out),
          "groups": dict(collections.Counter(r["group"] for r in out)),
          "tags": tags, "skipped": skipped}


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--package", required=True,
                      help="openmoji-<version>.tgz from `npm pack openmoji`")
  parser.add_argument("--output_dir", required=True)
  parser.add_argument("--size", type=int, default=64)
  parser.add_argument("--num_tags", type=int, default=20)
  args = parser.parse_args(argv)
  summary = write_folder(args.package, args.output_dir, args.size,
                         args.num_tags)
  print(f"{summary['images']} images in {args.output_dir}; groups "
        f"{summary['groups']}; tags {summary['tags']}")
  for hexcode, why in summary["skipped"].items():
    print(f"left out {hexcode}: {why}")


if __name__ == "__main__":
  main()
