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
  losses push the encoder the same way);
- what the scores and the embedding look like (`activity`): the scores'
  offset and spread, and how much of the embedding is one vector common to
  every example.

Adam divides each weight's step by the root of its squared-gradient average,
so a loss scaled by a constant takes the same steps: a ratio of norms alone
does not explain a difference in transfer, a different direction can.

Writes OUTPUT.json and OUTPUT.md.
"""

import argparse
import os
import sys
from typing import Dict, List

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


def activity(scores: np.ndarray, embedding: np.ndarray) -> Dict[str, float]:
  """What a network's outputs and embedding look like over examples.

  A rank regression asks the scores for an offset and a spread: MSE for
  the ranks' mean (n + 1)/2 and a step of 1 between neighbours, Fast Soft
  Ranking for steps of about its regularisation strength, Perturbed F-Y
  for steps of about its noise ε. An embedding spent on a common offset
  is the same vector for every example.

  Args:
    scores: [B, n] network outputs (scores, or logits for Fixed
      Permutation).
    embedding: [B, E] the embedding layer's activations.

  Returns:
    {"score_offset": the mean of θ over items and examples,
     "score_spread": the mean over examples of θ's std over its items,
     "offset_share": the share of Σθ² in the examples' item means
       (n·Σ_b θ̄_b² / Σθ²; 1 when every example's scores are equal),
     "embedding_mean": the mean activation,
     "embedding_common_share": ‖mean_b e_b‖² / mean_b ‖e_b‖² (1 when every
       example has the same embedding, 0 for centred ones)}.
  """
  scores = np.asarray(scores, np.float64)
  embedding = np.asarray(embedding, np.float64)
  item_means = scores.mean(axis=-1)
  squares = float(np.sum(scores ** 2))
  energy = float(np.mean(np.sum(embedding ** 2, axis=-1)))
  return {
      "score_offset": float(scores.mean()),
      "score_spread": float(scores.std(axis=-1).mean()),
      "offset_share": (scores.shape[-1] * float(np.sum(item_means ** 2)) /
                       squares if squares else 0.0),
      "embedding_mean": float(embedding.mean()),
      "embedding_common_share": (float(np.sum(embedding.mean(axis=0) ** 2)) /
                                 energy if energy else 0.0)}


def measure(network: tf.keras.Model, loss: losses.PermutationLoss,
            batches) -> Dict:
  """Loss, score-gradient and encoder-gradient statistics over `batches`.

  Returns:
    {"loss", "score_grad_norm" (mean per-example norm of ∂L/∂θ, with L the
     per-example loss), "shift_share" (share of Σ‖∂L/∂θ‖² along the
     all-ones direction), "encoder_grad_norm" (norm of the gradient of the
     batch-mean loss, averaged over batches), "encoder_grad" (the mean
     gradient, flattened, for cosines), "readout_bias_mean" (the mean bias
     of the scores layer: the part of an offset the embedding need not
     carry)}, and `activity` over all batches.
  """
  variables = _encoder_variables(network)
  both = tf.keras.Model(network.inputs, [
      network.get_layer(cfn.EMBEDDING_LAYER).output, network.output])
  values, norms, shift, total, enc_norms, enc_sum = [], [], 0.0, 0.0, [], None
  all_scores, all_embeddings = [], []
  for patches, ranks in batches:
    with tf.GradientTape(persistent=True) as tape:
      embedding, scores = both(patches, training=False)
      tape.watch(scores)
      per_example = loss.call(ranks, scores)
      mean, total_loss = tf.reduce_mean(per_example), tf.reduce_sum(
          per_example)
    score_grad = tape.gradient(total_loss, scores).numpy()
    all_scores.append(scores.numpy())
    all_embeddings.append(embedding.numpy())
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
          "encoder_grad": enc_sum / len(batches),
          "readout_bias_mean": float(np.mean(
              network.get_layer(cfn.SCORES_LAYER).bias.numpy())),
          **activity(np.concatenate(all_scores), np.concatenate(all_embeddings))}


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
          f"| {_name(row['run'])} | {row['learning_rate']:g} | "
          f"{row['step']} | {row['loss']:.4g} | {row['score_grad_norm']:.4g}"
          f" | {share} | {row['encoder_grad_norm']:.4g} |")
  lines += ["\nWhat the scores and the embedding look like on the same "
            "batches (`activity`; Fixed Permutation's outputs are its 100 "
            "logits): the scores' mean (offset) and their mean std over an "
            "example's items (spread), the share of the scores' squares in "
            "each example's mean, the embedding's mean activation and the "
            "share of its mean square that is one vector common to every "
            "example, and the mean bias of the scores layer:\n",
            "| weights | score offset | score spread | offset share | "
            "embedding mean | embedding common share | readout bias |",
            "|---|---|---|---|---|---|---|",
            *(f"| initial, {name} | {_activity(row)}"
              for name, row in init.items() if name == REFERENCE),
            *(f"| {_name(row['run'])}, step {row['step']} | {_activity(row)}"
              for row in trained)]
  return "\n".join(lines) + "\n"


def _name(run: str) -> str:
  """A run's name in the tables: its folder under the source's."""
  parts = os.path.normpath(run).split(os.sep)
  return "/".join(parts[2:]) if len(parts) > 2 else parts[-1]


def _activity(row: Dict) -> str:
  return (f"{row['score_offset']:.4g} | {row['score_spread']:.4g} | "
          f"{row['offset_share']:.3f} | {row['embedding_mean']:.4g} | "
          f"{row['embedding_common_share']:.3f} | "
          f"{row['readout_bias_mean']:.3g} |")


def parse_args(argv=None) -> argparse.Namespace:
  """The command line (argparse, not absl: tests import this module beside
  s2l's entry points and other scripts, whose absl flags share names)."""
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--run", required=True, help="A finished s2l.train "
                      "run: its data and initial weights.")
  parser.add_argument("--checkpoints", action="append", default=[],
                      help="Runs whose last checkpoint is measured with "
                      "their own loss (repeatable).")
  parser.add_argument("--batches", type=int, default=8,
                      help="Held-out batches to average over.")
  parser.add_argument("--output", default=None,
                      help="Path prefix of the .json and .md.")
  return parser.parse_args(argv)


def main(argv=None):
  args = parse_args(argv)
  init = at_initialisation(args.run, args.batches)
  trained = [at_checkpoint(run, args.batches) for run in args.checkpoints]
  text = markdown(init, trained, args.run)
  print(text)
  if args.output:
    plain = {"run": args.run, "batches": args.batches,
             "initialisation": {k: {m: v for m, v in row.items()
                                    if m != "encoder_grad"}
                                for k, row in init.items()},
             "cosine_with_reference": {
                 k: _cosine(row["encoder_grad"],
                            init[REFERENCE]["encoder_grad"])
                 for k, row in init.items()},
             "checkpoints": [{m: v for m, v in row.items()
                              if m != "encoder_grad"} for row in trained]}
    os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
    # Whole or not at all (s2l.atomic), as every result file.
    atomic.write_json(args.output + ".json", plain, indent=2)
    atomic.write_text(args.output + ".md", text)


if __name__ == "__main__":
  main()
