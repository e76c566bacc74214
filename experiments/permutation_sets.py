r"""How much of the input the Fixed Permutation pretext has to recognise.

    python experiments/permutation_sets.py [--num_items=10 --num_items=9] \
        [--output=results/permutation_sets]

For each patch count n (10 frequency bands on the audio twins, 3×3 = 9 tiles
on the image twin), takes the set of L permutations that
`FixedPermutationLoss` trains on (its defaults: 100 maximal-Hamming
permutations, seed 0; the data pipeline draws from the same set) and, for
contrast, L permutations drawn uniformly. For each, it reports the Hamming
distances between its rows and, for k = 1, 2, ..., the share of the sets of
k input slots whose contents alone name every permutation of the set, and
the share of the L that the best such set names
(`s2l.permutations.named_shares`). A classifier among the L needs to
recognise which original patch lies in that many slots; ordering all n!
permutations, as the ranking losses do, needs n - 1.

Writes OUTPUT.json and OUTPUT.md. Pure numpy on the sets: seconds.
"""

import math
import os
import sys
from typing import Dict

from absl import app
from absl import flags
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
# pylint: disable=wrong-import-position
from s2l import atomic
from s2l import losses
from s2l import permutations

flags.DEFINE_multi_integer("num_items", [10, 9], "Patch counts n.")
flags.DEFINE_string("output", None, "Path prefix of the .json and .md.")
FLAGS = flags.FLAGS


def structure(rows: np.ndarray) -> Dict:
  """Hamming distances and named shares of one [L, n] set."""
  distances = permutations.pairwise_hamming(rows)
  off = distances[~np.eye(len(rows), dtype=bool)]
  every, best = {}, {}
  for k in range(1, rows.shape[1]):
    shares = permutations.named_shares(rows, k)
    every[k] = float(np.mean(shares == 1.0))
    best[k] = float(shares.max())
    if every[k] == 1.0:  # Every superset of a naming set names too.
      break
  return {"hamming_min": int(off.min()), "hamming_mean": float(off.mean()),
          "slot_sets_naming_every_row": every,
          "best_slot_set_names": best}


def measure(n: int) -> Dict:
  """The trained set and a uniformly drawn one of the same size, for n."""
  trained = losses.FixedPermutationLoss(num_items=n).permutation_set
  size = trained.num_permutations
  rng = np.random.default_rng(0)
  drawn = set()
  while len(drawn) < size:
    drawn.add(tuple(rng.permutation(n) + 1))
  return {"n": n, "num_permutations": size, "orders": math.factorial(n),
          "trained": structure(trained.permutations),
          "uniform": structure(np.array(sorted(drawn)))}


def markdown(rows) -> str:
  lines = ["# What the Fixed Permutation pretext has to recognise\n",
           "Made by `python experiments/permutation_sets.py`. For the set "
           "of permutations `FixedPermutationLoss` trains on (maximal "
           "Hamming, seed 0) and a set of the same size drawn uniformly: "
           "the Hamming distances between its rows; for k input slots, the "
           "share of the sets of k slots whose contents alone name every "
           "permutation of the set, and the share of the set that the best "
           "k slots name. Ordering all n! permutations needs n − 1 slots.\n",
           "| n | set | L | Hamming min | Hamming mean | k | slot sets "
           "naming every row | rows the best k slots name |",
           "|---|---|---|---|---|---|---|---|"]
  for row in rows:
    for name in ("trained", "uniform"):
      s = row[name]
      label = ("maximal Hamming (trained)" if name == "trained"
               else "uniform draw")
      for k, every in s["slot_sets_naming_every_row"].items():
        lines.append(
            f"| {row['n']} | {label} | {row['num_permutations']} | "
            f"{s['hamming_min']} | {s['hamming_mean']:.2f} | {k} | "
            f"{every:.3f} | {s['best_slot_set_names'][k]:.2f} |")
  return "\n".join(lines) + "\n"


def main(argv):
  del argv
  rows = [measure(n) for n in FLAGS.num_items]
  text = markdown(rows)
  print(text)
  if FLAGS.output:
    os.makedirs(os.path.dirname(FLAGS.output) or ".", exist_ok=True)
    # Whole or not at all (s2l.atomic), as every result file.
    atomic.write_json(FLAGS.output + ".json", {"sets": rows}, indent=2)
    atomic.write_text(FLAGS.output + ".md", text)


if __name__ == "__main__":
  app.run(main)
