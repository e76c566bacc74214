"""A user's folder of notes, trained and probed from the command line.

The README's commands, run as a user runs them (one subprocess each): the
twin config plus gin/sources/audio_folder.gin and the folder's columns, then
`s2l.evaluate` on the run, which must probe that same folder.
"""

import csv
import json
import os
import subprocess
import sys
import wave

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["train.width = 0.03", "train.depth = 2", "train.embedding_size = 128",
        "train.batch_size = 4", "train.eval_batches = 1",
        "train.train_steps = 4", "train.steps_per_checkpoint = 2",
        "AudioFrontend.frame_step = 512", "AudioFolder.duration_s = 1.0"]


def _write_notes(root, count=30):
  """Sine or square notes (the family) at MIDI pitches, 1 s at 16 kHz, with
  a manifest that names no split (s2l splits by a hash of the paths)."""
  rows = []
  rng = np.random.default_rng(0)
  t = np.arange(16000) / 16000
  for i in range(count):
    family = ("sine", "square")[i % 2]
    pitch = int(rng.integers(48, 72))
    wave_ = np.sin(2 * np.pi * 440 * 2 ** ((pitch - 69) / 12) * t)
    if family == "square":
      wave_ = np.sign(wave_)
    name = f"note_{i:02d}.wav"
    with wave.open(str(root / name), "wb") as f:
      f.setnchannels(1)
      f.setsampwidth(2)
      f.setframerate(16000)
      f.writeframes((0.3 * 32767 * wave_).astype(np.int16).tobytes())
    rows.append({"path": name, "family": family, "pitch": pitch})
  with open(root / "manifest.csv", "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)


def _run(*args):
  result = subprocess.run([sys.executable, "-m", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
  assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.slow  # ~45 s; `make test-all` runs it (as the image and video ones).
def test_a_folder_trains_then_probes_from_the_command_line(tmp_path):
  folder = tmp_path / "notes"
  folder.mkdir()
  _write_notes(folder)
  run = tmp_path / "run"
  # The commands of the README and of the issue that asked for them.
  _run("s2l.train", "--gin_file=gin/synthetic_notes_freq10.gin",
       "--gin_file=gin/sources/audio_folder.gin",
       f"--gin_param=AudioFolder.root='{folder}'",
       "--gin_param=AudioFolder.label_columns=('family',)",
       "--gin_param=AudioFolder.regression_columns=('pitch',)",
       *[f"--gin_param={p}" for p in TINY], f"--model_dir={run}")
  assert (run / "encoder" / "saved_model.pb").exists()
  _run("s2l.evaluate", f"--model_dir={run}",
       "--gin_param=evaluate.num_examples=(8,)",
       "--gin_param=evaluate.seeds=(0,)", "--gin_param=evaluate.epochs=2")
  with open(run / "probe.json") as f:
    report = json.load(f)
  # The folder that was trained on is the one probed, and named.
  assert report["source"] == f"audio_folder:{folder}"
  assert report["pretraining"]["source"] == report["source"]
  assert set(report["results"]) == {"family", "pitch"}
  from s2l.datasets import audio_folder  # pylint: disable=import-outside-toplevel
  splits = audio_folder.AudioFolder(str(folder), duration_s=1.0).splits
  assert report["labelled_pool"] == splits["train"]
  assert splits["validation"] > 0 and sum(splits.values()) == 30
  cell = report["results"]["family"]["pretrained"]["8"]
  assert cell["metric"] == "accuracy" and len(cell["values"]) == 1
