r"""Runs a table or figure of the paper: its pre-trainings, probes and report.

    python -m s2l.experiments --experiment=table1 [--data=real] \
        [--budget=full] [--notes=soundfont] [--dry_run] \
        [--gin_param='train.train_steps = 400']

The experiments are declared in `s2l.plans`; budgets are gin files
(gin/budgets/<name>.gin). Each pre-training and probe runs in its own
subprocess (`python -m s2l.train`, `python -m s2l.evaluate`), so gin stays
isolated. Each run is probed as soon as it has trained, so its results are
written (and can be committed) before the next run starts. Nothing finished
is done twice: a finished run is reused and a stopped one resumes, and a
probe whose JSON is already in the results folder (from this machine or
from a commit) is not made again, nor its run trained again when all its
probes are there (`--reprobe` probes again). With `--until_settled`, a
learning-rate sweep runs, per loss, only the rates that `s2l.selection`'s
rule needs to settle its choice (`selection.next_value`). Runs and
results go to runs/ and results/, or runs/<budget>/ and results/<budget>/
for a budget other than small (`--runs`, `--results`). Before the
probes, RESULTS/<experiment>/experiment.json records the layout that
`s2l.report` then follows. `--gin_param` and `--gin_file` go to every
`s2l.train` call, after the plan's own.
"""

import json
import os
import shlex
import subprocess
import sys
from typing import Dict, Optional, Sequence

from absl import app
from absl import flags

from s2l import configurables
from s2l import plans
from s2l import selection

flags.DEFINE_enum("experiment", None, sorted(plans.PLANS),
                  "The table or figure to make.")
flags.DEFINE_enum("data", "embedded", plans.DATA,
                  "The embedded twins (made offline) or the paper's data sets "
                  "(prepared in --data_dir).")
flags.DEFINE_enum("notes", "synthetic", plans.NOTES,
                  "With embedded data, the audio twin.")
flags.DEFINE_string("budget", "small", "A budget of gin/budgets/ (small, "
                    "full) or the path of a gin file binding Budget.")
flags.DEFINE_string("data_dir", None, "TFDS data directory of the real data.")
flags.DEFINE_string("runs", None, "Where pre-training runs go (default "
                    "runs/, or runs/<budget>/ for a budget other than "
                    "small).")
flags.DEFINE_string("results", None, "Where probe JSONs and reports go "
                    "(default results/, or results/<budget>/ for a budget "
                    "other than small).")
flags.DEFINE_bool("dry_run", False, "Print the commands instead of running "
                  "(every command of the plan, or of its --pretrain_seed "
                  "and --loss runs, in the plan's order).")
flags.DEFINE_bool("reprobe", False, "Probe again even where a probe's JSON is "
                  "already in the results folder (it is replaced).")
flags.DEFINE_multi_integer(
    "pretrain_seed", None, "Run only the pre-trainings of these seeds "
    "(repeat the flag for several; default: every seed of the budget). The "
    "report pools whichever seeds' probes the results folder holds, so the "
    "other seeds can follow in a later session.")
flags.DEFINE_multi_string(
    "loss", None, "Run only the pre-trainings of these losses (registered "
    "names, e.g. perturbed_fenchel_young; repeat the flag for several; "
    "default: every loss of the plan). Combines with --pretrain_seed.")
flags.DEFINE_bool("until_settled", False, "A learning-rate sweep: per loss, "
                  "run only the rates the selection rule needs to settle "
                  "its choice, reading each probe before choosing the next.")
flags.DEFINE_multi_string("gin_file", [], "Extra gin file for every "
                          "s2l.train call.")
flags.DEFINE_multi_string("gin_param", [], "Extra gin binding for every "
                          "s2l.train call, e.g. \"train.train_steps = 400\".")
FLAGS = flags.FLAGS


def default_folder(kind: str, budget: str) -> str:
  """runs/ or results/ for the small budget; KIND/<budget>/ for another, so
  that a budget that trains longer never resumes or overwrites the small
  budget's runs and results (a gin file's budget is named by its stem)."""
  if budget == "small":
    return kind
  return os.path.join(kind, os.path.splitext(os.path.basename(budget))[0])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if not FLAGS.experiment:
    raise app.UsageError("--experiment is required, one of "
                         f"{sorted(plans.PLANS)}.")
  os.chdir(os.path.dirname(configurables.GIN_DIR))
  try:
    budget = configurables.load_budget(FLAGS.budget)
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  setting = plans.Setting(FLAGS.data, FLAGS.notes, budget, FLAGS.data_dir)
  experiment = plans.PLANS[FLAGS.experiment](setting)
  planned = experiment
  if FLAGS.pretrain_seed is not None:
    try:
      experiment = experiment.only_seeds(FLAGS.pretrain_seed)
    except ValueError as e:
      raise app.UsageError(str(e)) from e
  if FLAGS.loss is not None:
    try:
      experiment = experiment.only_losses(FLAGS.loss)
    except ValueError as e:
      raise app.UsageError(str(e)) from e
  train_args = ([f"--gin_file={f}" for f in FLAGS.gin_file] +
                [f"--gin_param={p}" for p in FLAGS.gin_param])
  python = "python" if FLAGS.dry_run else sys.executable
  runs = FLAGS.runs or default_folder("runs", FLAGS.budget)
  results = FLAGS.results or default_folder("results", FLAGS.budget)
  if FLAGS.until_settled and experiment.layout != "sweep":
    raise app.UsageError(f"--until_settled applies to a learning-rate sweep "
                         f"(lr_sweep, lr_sweep_video, lr_sweep_images), not "
                         f"{experiment.name}.")
  if FLAGS.dry_run:
    for line in plans.commands(experiment, runs, results, python,
                               train_args):
      print(shlex.join(line))
    return
  if planned.probes:
    # The whole plan's layout, whichever seeds run now.
    plans.write_layout(planned, setting, results, FLAGS.budget)
  runner = _Runner(experiment.name, FLAGS.reprobe)
  steps = plans.steps(experiment, runs, results, python, train_args)
  if FLAGS.until_settled:
    _sweep_until_settled(steps, runner)
  else:
    for step in steps:
      runner.step(step)
  if experiment.probes:
    runner.run([python, "-m", "s2l.report", results])


def finished_probe(path: str, run_name: str) -> Optional[Dict]:
  """The probe JSON `path` if it exists, whole, and probes the run named
  `run_name` (`Pretraining.name`, in whichever runs folder); None if it does
  not exist.

  Raises:
    ValueError: if it exists but cannot be read or probes another run (the
      results folder holds something this plan would overwrite).
  """
  if not os.path.exists(path):
    return None
  try:
    with open(path) as f:
      result = json.load(f)
  except (OSError, ValueError) as e:
    raise ValueError(f"{path} cannot be read ({e}): remove it, or pass "
                     "--reprobe to probe again.") from e
  if not isinstance(result, dict) or not result.get("results"):
    raise ValueError(f"{path} holds no probe results: remove it, or pass "
                     "--reprobe to probe again.")
  probed = os.path.normpath(str(result.get("model_dir", "")))
  name = os.path.normpath(run_name)
  if probed != name and not probed.endswith(os.sep + name):
    raise ValueError(f"{path} is a probe of {result.get('model_dir')!r}, not "
                     f"of the run {run_name}: move it away, or pass "
                     "--reprobe to replace it.")
  return result


class _Runner:
  """Runs command lines one at a time, numbered, and stops at a failure."""

  def __init__(self, name: str, reprobe: bool):
    self.name, self.reprobe, self.count = name, reprobe, 0

  def run(self, line: Sequence[str]) -> None:
    self.count += 1
    print(f"[{self.name} {self.count}] {shlex.join(line[1:])}", flush=True)
    done = subprocess.run(line, check=False)
    if done.returncode:
      sys.exit(f"{self.name}: {shlex.join(line[1:3])} failed (exit "
               f"{done.returncode}): {shlex.join(line)}\nRerunning the "
               "experiment resumes: finished runs and probes are reused.")

  def kept(self, path: str, run_name: str) -> Optional[Dict]:
    """The finished probe JSON `path` of run `run_name`, kept rather than
    made again; None when it is to be made (absent, or --reprobe). Stops the
    plan at a JSON it would overwrite (`finished_probe`)."""
    if self.reprobe:
      return None
    try:
      return finished_probe(path, run_name)
    except ValueError as e:
      sys.exit(f"{self.name}: {e}")

  def step(self, step: plans.Step) -> None:
    """Trains the run (reused when finished, resumed when stopped) and makes
    those of its probes not in the results folder yet; nothing when every
    probe of it is there."""
    todo = [(line, path) for line, path in step.probes
            if self.kept(path, step.run.name) is None]
    if step.probes and not todo:
      print(f"[{self.name}] {step.run.name}: every probe is in the results "
            "folder; not trained or probed again.", flush=True)
      return
    self.run(step.train)
    for line, _ in todo:
      self.run(line)


def _sweep_until_settled(steps: Sequence[plans.Step], runner: _Runner
                         ) -> None:
  """Per loss, the rates `selection.next_value` asks for, until settled."""
  groups: Dict[str, Dict[float, plans.Step]] = {}
  for step in steps:
    if step.run.group and len(step.probes) == 1:
      groups.setdefault(step.run.group, {})[step.run.value] = step
    else:
      runner.step(step)
  for group, by_value in groups.items():
    grid = sorted(by_value)
    ranked: Dict[float, float] = {}
    for value, step in by_value.items():
      ((_, path),) = step.probes
      result = runner.kept(path, step.run.name)
      if result is not None:
        ranked[value] = selection.score(result)
    while True:
      value = selection.next_value(sorted(ranked.items()), grid)
      if value is None:
        break
      step = by_value[value]
      runner.step(step)
      with open(step.probes[0][1]) as f:
        ranked[value] = selection.score(json.load(f))
    chosen = selection.best(sorted(ranked.items()))
    print(f"[{runner.name}] {group}: settled at learning rate "
          f"{selection.lr_label(chosen)} after {len(ranked)} of {len(grid)} "
          "rates (" + ", ".join(f"{selection.lr_label(v)}: {ranked[v]:+.4f}"
                                for v in sorted(ranked)) + ").", flush=True)


if __name__ == "__main__":
  app.run(main)
