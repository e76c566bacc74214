"""A one-minute demo of the pretext task on synthetic chirps (`make train`).

    python -m s2l.demo [--steps=400] [--num_patches=10]

Each example is a chirp (a tone whose frequency rises at a random rate from a
random start, under a decaying envelope) cut into n patches that are shuffled
with a uniformly drawn permutation. A context-free network (one small encoder
shared by every patch, its features concatenated, two dense layers, n scores)
learns to put the patches back in order, once per pretext loss of the paper
(section 3.1). It prints held-out partial ranks (chance 1/n) as it learns and
a summary table. It stands in for the full training entry point on the
embedded data sets, which builds on the same ops and losses.
"""

import time

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf

from s2l import losses
from s2l import metrics

_STEPS = flags.DEFINE_integer("steps", 400, "Training steps per loss.")
_NUM_PATCHES = flags.DEFINE_integer("num_patches", 10, "n, patches per chirp.")
_PATCH_LENGTH = flags.DEFINE_integer("patch_length", 24, "Samples per patch.")
_BATCH = flags.DEFINE_integer("batch_size", 32, "Examples per step.")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of data, weights and noise.")


def make_chirps(num: int, num_patches: int, patch_length: int,
                rng: np.random.Generator) -> np.ndarray:
  """[num, num_patches, patch_length] float32 patches of rising chirps."""
  t = np.linspace(0.0, 1.0, num_patches * patch_length, dtype=np.float32)
  start = rng.uniform(2.0, 6.0, size=(num, 1))
  rate = rng.uniform(10.0, 30.0, size=(num, 1))
  phase = rng.uniform(0.0, 2 * np.pi, size=(num, 1))
  decay = rng.uniform(0.5, 2.0, size=(num, 1))
  signal = np.exp(-decay * t) * np.sin(
      2 * np.pi * (start * t + 0.5 * rate * t**2) * 4 + phase)
  signal += 0.05 * rng.normal(size=signal.shape)
  return signal.reshape(num, num_patches, patch_length).astype(np.float32)


def shuffle_patches(patches: np.ndarray, rng: np.random.Generator,
                    permutation_table=None):
  """Shuffles each example's patches; returns (shuffled, ranks 1..n).

  Shuffled patch i is original patch ranks[i] − 1, so sorting the shuffled
  patches by their ranks restores the original order.
  """
  num, n = patches.shape[:2]
  if permutation_table is None:
    ranks = np.argsort(rng.random((num, n)), axis=-1) + 1
  else:
    ranks = permutation_table[rng.integers(len(permutation_table), size=num)]
  shuffled = np.take_along_axis(patches, (ranks - 1)[..., None], axis=1)
  return shuffled, ranks.astype(np.float32)


def context_free_network(num_patches: int, patch_length: int,
                         num_outputs: int) -> tf.keras.Model:
  """Shared per-patch encoder, concatenation, two dense layers, outputs."""
  patches = tf.keras.Input([num_patches, patch_length])
  encoder = tf.keras.Sequential([
      tf.keras.layers.Reshape([patch_length, 1]),
      tf.keras.layers.Conv1D(16, 5, activation="relu"),
      tf.keras.layers.MaxPool1D(2),
      tf.keras.layers.Conv1D(16, 5, activation="relu"),
      tf.keras.layers.GlobalAveragePooling1D(),
  ], name="shared_patch_encoder")
  features = tf.keras.layers.TimeDistributed(encoder)(patches)
  hidden = tf.keras.layers.Flatten()(features)
  hidden = tf.keras.layers.Dense(64, activation="relu", name="embedding")(
      hidden)
  hidden = tf.keras.layers.Dense(64, activation="relu")(hidden)
  return tf.keras.Model(patches, tf.keras.layers.Dense(num_outputs)(hidden))


def train_one(name: str, loss: losses.PermutationLoss, steps: int, n: int,
              patch_length: int, batch_size: int, seed: int):
  """Trains one network with `loss`; returns (partial ranks, exact, steps/s)."""
  tf.keras.utils.set_random_seed(seed)
  rng = np.random.default_rng(seed)
  table = None
  num_outputs = n
  if isinstance(loss, losses.FixedPermutationLoss):
    table = loss.permutation_set.permutations
    num_outputs = loss.permutation_set.num_permutations
  model = context_free_network(n, patch_length, num_outputs)
  optimizer = tf.keras.optimizers.Adam(3e-3)

  @tf.function
  def step(x, y):
    with tf.GradientTape() as tape:
      value = loss(y, model(x, training=True))
    optimizer.apply_gradients(
        zip(tape.gradient(value, model.trainable_variables),
            model.trainable_variables))
    return value

  test_x, test_y = shuffle_patches(make_chirps(512, n, patch_length, rng),
                                   rng, table)

  def evaluate():
    predicted = loss.predicted_ranks(model(test_x))
    return (metrics.partial_ranks_accuracy(test_y, predicted).numpy().mean(),
            metrics.exact_permutation_accuracy(test_y, predicted).numpy()
            .mean())

  def report(i, value, rate):
    partial, _ = evaluate()
    print(f"  {name:<24} step {i:>4}/{steps}  loss {value:8.4f}  "
          f"held-out partial ranks {partial:.3f}  ({rate:.0f} steps/s, "
          f"ETA {(steps - i) / rate if rate else 0:.0f}s)", flush=True)

  report(0, float(loss(test_y, model(test_x))), 0.0)
  start = time.perf_counter()
  for i in range(1, steps + 1):
    x, y = shuffle_patches(make_chirps(batch_size, n, patch_length, rng), rng,
                           table)
    value = step(x, y)
    if i % 50 == 0 or i == steps:
      report(i, float(value), i / (time.perf_counter() - start))
  return (*evaluate(), steps / (time.perf_counter() - start))


def main(argv):
  del argv
  n = _NUM_PATCHES.value
  candidates = {
      "Perturbed F-Y": losses.PerturbedFenchelYoungLoss(),
      "Fast Soft Ranking": losses.SoftRankLoss(),
      "MSE": losses.RankMSELoss(),
      "Fixed Permutation (100)": losses.FixedPermutationLoss(
          n, num_permutations=min(100, int(np.prod(range(1, n + 1))))),
  }
  print(f"Reordering {n} shuffled chirp patches (chance partial ranks "
        f"{1 / n:.3f}), {_STEPS.value} steps per loss.")
  rows = []
  for name, loss in candidates.items():
    rows.append((name, *train_one(name, loss, _STEPS.value, n,
                                  _PATCH_LENGTH.value, _BATCH.value,
                                  _SEED.value)))
  print("\n| pretext loss | held-out partial ranks | exact permutation |"
        " steps/s |\n|---|---|---|---|")
  for name, partial, exact, rate in rows:
    print(f"| {name} | {partial:.3f} | {exact:.3f} | {rate:.0f} |")


if __name__ == "__main__":
  app.run(main)
