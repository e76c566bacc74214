r"""One probe cell made again, with its test score after every few epochs.

    python experiments/probe_curve.py \
        --probe=results/soundfont_notes/table6/freq10_fast_soft_ranking_lr3e-5_seed1.json \
        --task=instrument --labels=5000 --seed=2 \
        --output=results/soundfont_notes/table6/probe_curves/fsr_seed1_instrument_seed2

A probe's score is that of its head after the last epoch (`s2l.probe`,
Adam, no schedule, no early stopping). This re-trains one cell of a probe
JSON (`s2l.evaluate`'s output: one task, number of labels, probe seed and
encoder) with the same run, layer and protocol, and records the head's
training loss and its test score every `--every` epochs, to show whether the
cell's value is where the head settled or an accident of its last epochs.
The cell is made in a scratch folder, never in the results folder, and its
final score is checked against the recorded one.

Writes OUTPUT.json (the curve, the recorded and the remade score) and
OUTPUT.png (test score and training loss against epochs).
"""

import argparse
import json
import os
import sys
import tempfile
from typing import Dict, List
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from s2l import atomic  # pylint: disable=wrong-import-position
from s2l import evaluation  # pylint: disable=wrong-import-position
from s2l import probe  # pylint: disable=wrong-import-position
import tensorflow as tf  # pylint: disable=wrong-import-position


class Curve(tf.keras.callbacks.Callback):
  """Records (epoch, training loss, test scores) after every `every` epochs,
  the first and the last; `points` holds them."""

  def __init__(self, task, inputs: probe.HeadInputs, labels, every: int,
               epochs: int):
    super().__init__()
    self.task, self.inputs, self.labels = task, inputs, labels
    self.every, self.epochs = every, epochs
    self.points: List[Dict] = []

  def on_epoch_end(self, epoch, logs=None):
    done = epoch + 1
    if done == 1 or done % self.every == 0 or done == self.epochs:
      outputs = self.model.predict(self.inputs.test, batch_size=256,
                                   verbose=0)
      self.points.append({
          "epoch": done, "train_loss": float((logs or {})["loss"]),
          "test": {k: float(v) for k, v in probe.scores(
              self.task, self.labels, self.inputs.decode(outputs)).items()}})


def watched_train_head(every: int, curves: List[List[Dict]]):
  """`probe.train_head` with a `Curve` on each head it trains; each head's
  points are appended to `curves`."""
  train_head = probe.train_head

  def train(task, head_kind, train, test, seed, epochs=100, **kwargs):
    inputs = probe.head_inputs(task, train, test,
                               kwargs.get("standardize", True))
    curve = Curve(task, inputs, test[1], every, epochs)
    result = train_head(task, head_kind, train, test, seed, epochs=epochs,
                        callbacks=[curve], **kwargs)
    curves.append(curve.points)
    return result
  return train


def recorded_cell(record: Dict, task: str, baseline: str, labels: int
                  ) -> Dict:
  """The cell of a probe JSON, or a ValueError naming those it holds."""
  try:
    return record["results"][task][baseline][str(labels)]
  except KeyError:
    held = {t: {b: sorted(c) for b, c in v.items()}
            for t, v in record.get("results", {}).items()}
    raise ValueError(f"the probe holds no cell {task}/{baseline}/{labels} "
                     f"labels; it holds {held}.") from None


def remake(record: Dict, task: str, baseline: str, labels: int, seed: int,
           every: int, model_dir: str = "", epochs: int = 100) -> Dict:
  """Re-trains the cell of `record` (a probe JSON) for probe `seed`, with a
  `Curve`; returns the curve, the recorded value and the remade one.

  The probe JSON records the run, layer, head and labelled examples; the
  head's `epochs` is given here, and its other settings are
  `s2l.evaluation.evaluate`'s defaults, which every plan of `s2l.plans`
  keeps. A remade score far from the recorded one says that the probe was
  made otherwise."""
  cell = recorded_cell(record, task, baseline, labels)
  if seed not in range(len(cell["values"])):
    raise ValueError(f"probe seed {seed}: the cell holds "
                     f"{len(cell['values'])} seeds (0 to "
                     f"{len(cell['values']) - 1}).")
  if baseline not in ("pretrained", "random"):
    raise ValueError("only the frozen encoders' cells ('pretrained', "
                     f"'random') have a head to watch, not {baseline!r}.")
  curves: List[List[Dict]] = []
  with tempfile.TemporaryDirectory() as scratch, mock.patch.object(
      probe, "train_head", watched_train_head(every, curves)):
    remade = evaluation.evaluate(
        model_dir or record["model_dir"], tasks=(task,),
        num_examples=(labels,), seeds=(seed,), baselines=(baseline,),
        epochs=epochs, head=record["head"], layer=record.get("layer", "embedding"),
        labelled_pool=record["labelled_pool"],
        labelled_subsets=record["labelled_subsets"],
        standardize=record["standardize"],
        output=os.path.join(scratch, "probe.json"))
  if remade["encoder_step"] != record["encoder_step"]:
    raise ValueError(f"the run's encoder is at step {remade['encoder_step']}"
                     f", the probe's was at {record['encoder_step']}: not "
                     "the same encoder.")
  (points,) = curves
  return {"probe_of": record["model_dir"], "task": task,
          "baseline": baseline, "labels": labels, "seed": seed,
          "metric": cell["metric"], "recorded": cell["values"][seed],
          "remade": remade["results"][task][baseline][str(labels)][
              "values"][0],
          "curve": points}


def plot(result: Dict, path: str) -> None:
  """Test score and training loss (log axis) against epochs."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  from matplotlib import pyplot  # pylint: disable=import-outside-toplevel
  epochs = [p["epoch"] for p in result["curve"]]
  metric = result["metric"]
  fig, (top, bottom) = pyplot.subplots(2, 1, sharex=True, figsize=(6, 5))
  top.plot(epochs, [p["test"][metric] for p in result["curve"]], marker=".")
  top.axhline(result["recorded"], color="grey", linestyle=":",
              label=f"recorded {result['recorded']:.4f}")
  top.set_ylabel(f"test {metric}")
  top.legend()
  bottom.semilogy(epochs, [p["train_loss"] for p in result["curve"]],
                  marker=".")
  bottom.set_ylabel("training loss")
  bottom.set_xlabel("epoch")
  top.set_title(f"{result['task']}, {result['labels']} labels, probe seed "
                f"{result['seed']} ({result['baseline']}):\n"
                f"{result['probe_of']}", fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  pyplot.close(fig)


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
  parser.add_argument("--probe", required=True, help="a probe JSON")
  parser.add_argument("--task", required=True)
  parser.add_argument("--labels", type=int, required=True)
  parser.add_argument("--seed", type=int, required=True,
                      help="the probe seed's index in the cell")
  parser.add_argument("--baseline", default="pretrained")
  parser.add_argument("--every", type=int, default=5)
  parser.add_argument("--epochs", type=int, default=100,
                      help="the probe's head epochs (evaluate.epochs)")
  parser.add_argument("--model_dir", default="",
                      help="the run, when not at the probe's model_dir")
  parser.add_argument("--output", required=True,
                      help="path without extension of the .json and .png")
  args = parser.parse_args(argv)
  with open(args.probe) as f:
    record = json.load(f)
  try:
    result = remake(record, args.task, args.baseline, args.labels, args.seed,
                    args.every, args.model_dir, args.epochs)
  except ValueError as e:
    sys.exit(f"probe_curve: {e}")
  if os.path.dirname(args.output):
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
  atomic.write_json(args.output + ".json", result, indent=1)
  plot(result, args.output + ".png")
  along = [p["test"][result["metric"]] for p in result["curve"]]
  best = min(along) if result["metric"] == "mse" else max(along)
  print(f"{args.task}, {args.labels} labels, seed {args.seed}: recorded "
        f"{result['recorded']:.4f}, remade {result['remade']:.4f}; best "
        f"along the curve {best:.4f}")


if __name__ == "__main__":
  main()
