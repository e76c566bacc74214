r"""Runs a table or figure of the paper: its pre-trainings, probes and report.

    python -m s2l.experiments --experiment=table1 [--data=real] \
        [--budget=full] [--notes=soundfont] [--dry_run] \
        [--gin_param='train.train_steps = 400']

The experiments are declared in `s2l.plans`; budgets are gin files
(gin/budgets/<name>.gin). Each pre-training and probe runs in its own
subprocess (`python -m s2l.train`, `python -m s2l.evaluate`), so gin stays
isolated; a finished run is reused and a stopped one resumes. Runs and
results go to runs/ and results/, or runs/<budget>/ and results/<budget>/
for a budget other than small (`--runs`, `--results`). Before the
probes, RESULTS/<experiment>/experiment.json records the layout that
`s2l.report` then follows. `--gin_param` and `--gin_file` go to every
`s2l.train` call, after the plan's own.
"""

import os
import shlex
import subprocess
import sys

from absl import app
from absl import flags

from s2l import configurables
from s2l import plans

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
flags.DEFINE_bool("dry_run", False, "Print the commands instead of running.")
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
  train_args = ([f"--gin_file={f}" for f in FLAGS.gin_file] +
                [f"--gin_param={p}" for p in FLAGS.gin_param])
  python = "python" if FLAGS.dry_run else sys.executable
  runs = FLAGS.runs or default_folder("runs", FLAGS.budget)
  results = FLAGS.results or default_folder("results", FLAGS.budget)
  lines = plans.commands(experiment, runs, results, python, train_args)
  if FLAGS.dry_run:
    for line in lines:
      print(shlex.join(line))
    return
  if experiment.probes:
    plans.write_layout(experiment, setting, results, FLAGS.budget)
  for number, line in enumerate(lines, start=1):
    print(f"[{experiment.name} {number}/{len(lines)}] {shlex.join(line[1:])}",
          flush=True)
    done = subprocess.run(line, check=False)
    if done.returncode:
      sys.exit(f"{experiment.name}: step {number} failed (exit "
               f"{done.returncode}): {shlex.join(line)}\nRerunning the "
               "experiment resumes: finished runs are reused.")


if __name__ == "__main__":
  app.run(main)
