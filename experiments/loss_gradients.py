r"""What each pretext loss sends to the encoder: gradient norms and targets.

    python experiments/loss_gradients.py --run=runs/soundfont_notes/RUN \
        [--checkpoints=runs/soundfont_notes/OTHER_RUN ...] \
        [--output=results/soundfont_notes/loss_gradients]

On held-out pretext batches of the run's data (its record says which), for
every loss of `s2l.losses` at the run's initial weights (`RUN/encoder_init`,
the weights every loss starts from with this seed), and for each run of
`--checkpoints` at its last checkpoint with its own loss:

- the loss value and the norm of its gradient with respect to the scores θ,
  per example, and the share of that gradient's squared norm along the
  all-ones direction (a common shift of every score, which says nothing about
  the order: the targets' mean (n + 1)/2 of the rank regressions);
- the global norm of its gradient with respect to the encoder's weights (the
  shared patch network and the embedding layer: what the probes read), its
  ratio to Perturbed F-Y's, and the cosine between the two (whether the two
  losses push the encoder the same way).

Adam divides each weight's step by the root of its squared-gradient average,
so a loss scaled by a constant takes the same steps: a ratio of norms alone
does not explain a difference in transfer, a different direction can.

Writes OUTPUT.json and OUTPUT.md.
"""

import os
import sys
from typing import Dict, List

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
# pylint: disable=wrong-import-position
from s2l import atomic
from s2l import losses
from s2l import run_record
from s2l.data import pipeline
from s2l.models import cfn

flags.DEFINE_string("run", None, "A finished s2l.train run: its data and "
                    "initial weights.")
flags.DEFINE_multi_string("checkpoints", [], "Runs whose last checkpoint is "
                          "measured with their own loss.")
flags.DEFINE_integer("batches", 8, "Held-out batches to average over.")
flags.DEFINE_string("output", None, "Path prefix of the .json and .md.")
FLAGS = flags.FLAGS

REFERENCE = "perturbed_fenchel_young"
ENCODER_LAYERS = ("shared_encoder", cfn.EMBEDDING_LAYER)


def _network(record: Dict) -> tf.keras.Model:
  net = record["network"]
  return cfn.context_free_network(
      net["num_patches"], net["patch_shape"], net["num_outputs"],
      width=net["width"], depth=net["depth"],
      embedding_size=net["embedding_size"], dropout=net["dropout"])


def _encoder_variables(network: tf.keras.Model) -> List[tf.Variable]:
  return [v for name in ENCODER_LAYERS
          for v in network.get_layer(name).trainable_variables]


def held_out_batches(record: Dict, loss: losses.PermutationLoss,
                     count: int) -> List:
  """`count` fixed validation batches of the run's pretext data."""
  dataset = pipeline.pretext_dataset(
      run_record.build_source(record["source"]), "validation", seed=1,
      shuffle_buffer=0, slicing=run_record.build(record["slicing"]),
      frontend=run_record.build(record["frontend"]),
      batch_size=record["batch_size"],
      permutation_set=loss.permutation_set, data_dir=record["data_dir"])
  return list(dataset.take(count))


def measure(network: tf.keras.Model, loss: losses.PermutationLoss,
            batches) -> Dict:
  """Loss, score-gradient and encoder-gradient statistics over `batches`.

  Returns:
    {"loss", "score_grad_norm" (mean per-example norm of ∂L/∂θ, with L the
     per-example loss), "shift_share" (share of Σ‖∂L/∂θ‖² along the
     all-ones direction), "encoder_grad_norm" (norm of the gradient of the
     batch-mean loss, averaged over batches), "encoder_grad" (the mean
     gradient, flattened, for cosines)}.
  """
  variables = _encoder_variables(network)
  values, norms, shift, total, enc_norms, enc_sum = [], [], 0.0, 0.0, [], None
  for patches, ranks in batches:
    with tf.GradientTape(persistent=True) as tape:
      scores = network(patches, training=False)
      tape.watch(scores)
      per_example = loss.call(ranks, scores)
      mean, total_loss = tf.reduce_mean(per_example), tf.reduce_sum(
          per_example)
    score_grad = tape.gradient(total_loss, scores).numpy()
    grads = tape.gradient(mean, variables)
    del tape
    flat = np.concatenate([g.numpy().ravel() for g in grads])
    values.append(float(mean))
    norms += list(np.linalg.norm(score_grad, axis=-1))
    if loss.permutation_set is None:  # Scores, not logits.
      shift += float(np.sum(np.mean(score_grad, axis=-1) ** 2) *
                     score_grad.shape[-1])
      total += float(np.sum(score_grad ** 2))
    enc_norms.append(float(np.linalg.norm(flat)))
    enc_sum = flat if enc_sum is None else enc_sum + flat
  return {"loss": float(np.mean(values)),
          "score_grad_norm": float(np.mean(norms)),
          "shift_share": shift / total if total else None,
          "encoder_grad_norm": float(np.mean(enc_norms)),
          "encoder_grad": enc_sum / len(batches)}


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
  return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def at_initialisation(run: str, batches: int) -> Dict[str, Dict]:
  """Every loss of `losses.BY_NAME` at the run's initial encoder weights."""
  record = run_record.read(run)
  init = tf.keras.models.load_model(os.path.join(run, "encoder_init"),
                                    compile=False)
  rows = {}
  for name, loss_class in losses.BY_NAME.items():
    loss = loss_class().bind(record["network"]["num_patches"])
    if isinstance(loss, losses.PerturbedFenchelYoungLoss):
      loss.seed = 0  # The same noise for every batch and run.
    record_for = {**record, "network": {
        **record["network"], "num_outputs": loss.num_outputs}}
    tf.keras.utils.set_random_seed(record["seed"])
    network = _network(record_for)
    for layer in init.layers:
      if layer.weights:
        network.get_layer(layer.name).set_weights(layer.get_weights())
    rows[name] = measure(network, loss, held_out_batches(record, loss,
                                                         batches))
    rows[name]["targets"] = _targets(record["network"]["num_patches"])
  return rows


def _targets(n: int) -> Dict:
  """Scale of the rank targets 1..n: their mean and their norm."""
  ranks = np.arange(1, n + 1, dtype=np.float64)
  return {"n": n, "mean": float(ranks.mean()),
          "norm": float(np.linalg.norm(ranks)),
          "centred_norm": float(np.linalg.norm(ranks - ranks.mean()))}


def at_checkpoint(run: str, batches: int) -> Dict:
  """A run's own loss at its newest checkpoint."""
  record = run_record.read(run)
  loss = run_record.build(record["loss"]).bind(
      record["network"]["num_patches"])
  if isinstance(loss, losses.PerturbedFenchelYoungLoss):
    loss.seed = 0
  network = _network(record)
  latest = tf.train.latest_checkpoint(os.path.join(run, "checkpoints"))
  tf.train.Checkpoint(network=network).restore(latest).expect_partial()
  row = measure(network, loss, held_out_batches(record, loss, batches))
  row.update(run=run, loss_class=record["loss"]["class"],
             learning_rate=record["learning_rate"],
             step=int(latest.rsplit("-", 1)[1]))
  return row


def markdown(init: Dict[str, Dict], trained: List[Dict], run: str) -> str:
  reference = init[REFERENCE]["encoder_grad"]
  lines = [
      "# What each pretext loss sends to the encoder\n",
      f"Made by `python experiments/loss_gradients.py` on held-out pretext "
      f"batches of `{run}`'s data. At the initial weights every loss starts "
      "from (seed "
      f"{run_record.read(run)['seed']}):\n",
      "| loss | loss value | ‖∂L/∂θ‖ per example | share along all-ones | "
      "‖∂L/∂encoder‖ | ÷ Perturbed F-Y | cosine with Perturbed F-Y |",
      "|---|---|---|---|---|---|---|"]
  for name, row in init.items():
    share = "–" if row["shift_share"] is None else f"{row['shift_share']:.0%}"
    lines.append(
        f"| {name} | {row['loss']:.4g} | {row['score_grad_norm']:.4g} | "
        f"{share} | {row['encoder_grad_norm']:.4g} | "
        f"{row['encoder_grad_norm'] / init[REFERENCE]['encoder_grad_norm']:.3g}"
        f" | {_cosine(row['encoder_grad'], reference):.3f} |")
  targets = init[REFERENCE]["targets"]
  lines.append(
      f"\nRank targets 1..{targets['n']}: mean {targets['mean']:g}, norm "
      f"{targets['norm']:.3g}, of which {targets['centred_norm']:.3g} about "
      "the mean (the order).\n")
  if trained:
    lines += ["At each run's last checkpoint, with its own loss:\n",
              "| run | learning rate | step | loss value | ‖∂L/∂θ‖ per "
              "example | share along all-ones | ‖∂L/∂encoder‖ |",
              "|---|---|---|---|---|---|---|"]
    for row in trained:
      share = ("–" if row["shift_share"] is None
               else f"{row['shift_share']:.0%}")
      lines.append(
          f"| {os.path.basename(row['run'])} | {row['learning_rate']:g} | "
          f"{row['step']} | {row['loss']:.4g} | {row['score_grad_norm']:.4g}"
          f" | {share} | {row['encoder_grad_norm']:.4g} |")
  return "\n".join(lines) + "\n"


def main(argv):
  del argv
  if not FLAGS.run:
    raise app.UsageError("--run is required: a finished s2l.train run.")
  init = at_initialisation(FLAGS.run, FLAGS.batches)
  trained = [at_checkpoint(run, FLAGS.batches) for run in FLAGS.checkpoints]
  text = markdown(init, trained, FLAGS.run)
  print(text)
  if FLAGS.output:
    plain = {"run": FLAGS.run, "batches": FLAGS.batches,
             "initialisation": {k: {m: v for m, v in row.items()
                                    if m != "encoder_grad"}
                                for k, row in init.items()},
             "cosine_with_reference": {
                 k: _cosine(row["encoder_grad"],
                            init[REFERENCE]["encoder_grad"])
                 for k, row in init.items()},
             "checkpoints": [{m: v for m, v in row.items()
                              if m != "encoder_grad"} for row in trained]}
    os.makedirs(os.path.dirname(FLAGS.output) or ".", exist_ok=True)
    # Whole or not at all (s2l.atomic), as every result file.
    atomic.write_json(FLAGS.output + ".json", plain, indent=2)
    atomic.write_text(FLAGS.output + ".md", text)


if __name__ == "__main__":
  app.run(main)
