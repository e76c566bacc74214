"""experiments/loss_gradients.py: what the scores and embedding look like."""

import numpy as np
import pytest

import experiment_scripts

loss_gradients = experiment_scripts.load("loss_gradients")


def test_activity_known_values():
  got = loss_gradients.activity(np.array([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]]),
                                np.array([[1.0, 0.0], [1.0, 2.0]]))
  assert got["score_offset"] == pytest.approx(3.0)
  assert got["score_spread"] == pytest.approx(np.sqrt(2.0 / 3.0))
  # Item means 2 and 4: 3·(4 + 16) of Σθ² = 64.
  assert got["offset_share"] == pytest.approx(60.0 / 64.0)
  assert got["embedding_mean"] == pytest.approx(1.0)
  # Mean vector (1, 1): 2 of a mean square norm of (1 + 5)/2.
  assert got["embedding_common_share"] == pytest.approx(2.0 / 3.0)


def test_activity_at_the_ends_of_its_shares():
  same = loss_gradients.activity(np.full((4, 5), 5.5), np.ones((4, 3)))
  assert same["offset_share"] == pytest.approx(1.0)
  assert same["score_spread"] == pytest.approx(0.0)
  assert same["embedding_common_share"] == pytest.approx(1.0)
  ranks = np.tile(np.arange(1.0, 6.0) - 3.0, (2, 1))
  centred = loss_gradients.activity(ranks, np.array([[1.0, -1.0],
                                                     [-1.0, 1.0]]))
  assert centred["offset_share"] == pytest.approx(0.0)
  assert centred["score_offset"] == pytest.approx(0.0)
  assert centred["embedding_common_share"] == pytest.approx(0.0)
  zeros = loss_gradients.activity(np.zeros((2, 3)), np.zeros((2, 4)))
  assert zeros["offset_share"] == 0.0
  assert zeros["embedding_common_share"] == 0.0


def test_command_line():
  args = loss_gradients.parse_args(["--run=r", "--checkpoints=a",
                                    "--checkpoints=b", "--output=o"])
  assert (args.run, args.checkpoints, args.batches, args.output) == (
      "r", ["a", "b"], 8, "o")
  with pytest.raises(SystemExit):
    loss_gradients.parse_args([])  # --run is required


def _row(**values):
  row = {"loss": 1.0, "score_grad_norm": 2.0, "shift_share": 0.5,
         "encoder_grad_norm": 4.0, "encoder_grad": np.array([1.0, 0.0]),
         "readout_bias_mean": 0.25,
         **loss_gradients.activity(np.array([[1.0, 2.0]]),
                                   np.array([[1.0, 1.0]]))}
  row.update(values)
  return row


def test_markdown_tables_every_run_and_its_activity(monkeypatch):
  monkeypatch.setattr(loss_gradients.run_record, "read",
                      lambda run: {"seed": 0})
  init = {loss_gradients.REFERENCE: _row(targets=loss_gradients._targets(3)),
          "mse": _row(encoder_grad=np.array([0.0, 2.0]), shift_share=None)}
  trained = [_row(run="runs/soundfont_notes/score_targets/variant",
                  learning_rate=1e-4, step=10000)]
  text = loss_gradients.markdown(init, trained, "runs/soundfont_notes/a")
  # The cosine of orthogonal encoder gradients, and no share for logits.
  assert "| mse | 1 | 2 | – | 4 | 1 | 0.000 |" in text
  assert "| score_targets/variant | 0.0001 | 10000 | 1 | 2 | 50% | 4 |" in text
  # Offset 1.5, spread 0.5, offset share 2·2.25/5, embedding mean 1.
  assert ("| score_targets/variant, step 10000 | 1.5 | 0.5 | 0.900 | 1 | "
          "1.000 | 0.25 |") in text
  assert f"| initial, {loss_gradients.REFERENCE} | 1.5 |" in text
