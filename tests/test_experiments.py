"""Tests for s2l/plans.py, s2l/experiments.py and the scripts of experiments/:
the declared experiments parse, probe only runs they pre-train, write where
the report reads, and are the runs the shell scripts made before."""

import json
import os
import shlex
import subprocess
import sys

import gin
import pytest

from s2l import configurables
from s2l import losses
from s2l.data import sources
from s2l import evaluation  # pylint: disable=unused-import (gin: evaluate)
from s2l import plans
from s2l import run_spec
from s2l import selection
from s2l import training  # pylint: disable=unused-import (gin: train)

ROOT = os.path.dirname(configurables.GIN_DIR)
# The commands the experiment scripts printed before the plans replaced them
# (RUNS=/tmp/runs RESULTS=/tmp/res PYTHON=python DATA_DIR=/data/tfds), but
# for deliberate changes since: table 2's and figure 4's probes take each
# run's own random encoder too (evaluate.baselines); every cell has three
# pre-training seeds (runs "_seed1", "_seed2"); on the SoundFont twin a loss
# whose rate the sweep settled trains at it (runs "_lr<rate>"), and on the
# image twin too (table 4, emoji_images) and on the video twin (table 3,
# physics_video); the video and image twins are physics_video and
# emoji_images, table 3 probed at 1000 labels; figure 4's 10-band run is
# table 2's.
with open(os.path.join(ROOT, "tests", "data",
                       "experiment_commands.json")) as _f:
  BEFORE = json.load(_f)
BUDGETS = {name: configurables.load_budget(name) for name in ("small",
                                                              "full")}
gin.clear_config()
PAPER = sorted(set(plans.PLANS) - {"pretrain_twins", "lr_sweep",
                                   "lr_sweep_video", "lr_sweep_images",
                                   "gain_vs_steps", "gain_vs_data",
                                   "gain_vs_width", "frames_video", "ablations",
                                   "permutation_set_size", "random_labels",
                                   "score_targets", "probed_layer"})


def _commands(name, data="embedded", budget="small", notes="synthetic",
              train_args=()):
  setting = plans.Setting(data, notes, BUDGETS[budget],
                          "/data/tfds" if data == "real" else None)
  return plans.commands(plans.PLANS[name](setting), "/tmp/runs", "/tmp/res",
                        "python", train_args)


@pytest.mark.parametrize("key", sorted(BEFORE))
def test_plans_run_what_the_scripts_ran(key):
  name, data, budget = key.rsplit("_", 2)
  notes = "synthetic"
  if name.endswith("_soundfont"):
    name, notes = name[:-len("_soundfont")], "soundfont"
  assert _commands(name, data, budget, notes) == BEFORE[key]


def _flags(command):
  """{flag: [values]} of `python -m module --flag=value ...`."""
  flags = {}
  for arg in command[3:]:
    if not arg.startswith("--"):
      continue  # s2l.report's results folder.
    name, value = arg[2:].split("=", 1)
    flags.setdefault(name, []).append(value)
  return flags


@pytest.mark.parametrize("data", plans.DATA)
@pytest.mark.parametrize("name", sorted(plans.PLANS))
def test_every_command_parses_and_probes_its_own_runs(name, data):
  if name == "pretrain_twins" and data == "real":
    return
  commands = _commands(name, data,
                       train_args=["--gin_param=train.train_steps = 200"])
  trained, outputs = {}, []
  for command in commands:
    module, flags = command[2], _flags(command)
    gin.clear_config()
    if module == "s2l.train":
      (model_dir,) = flags["model_dir"]
      assert model_dir.startswith("/tmp/runs/")
      files = [os.path.join(ROOT, f) for f in flags["gin_file"]]
      configurables.parse_gin(files, flags.get("gin_param", []))
      # The extra flags come last and win.
      assert gin.query_parameter("train.train_steps") == 200
      source = gin.query_parameter("train.source")
      assert sources.get(source).embedded == (data == "embedded")
      trained[model_dir] = files
    elif module == "s2l.evaluate":
      (model_dir,) = flags["model_dir"]
      assert model_dir in trained, f"{model_dir} is probed, never trained"
      configurables.parse_gin([], flags["gin_param"])
      outputs.append(gin.query_parameter("evaluate.output"))
      folder = plans.PLANS[name](plans.Setting()).name
      assert os.path.dirname(outputs[-1]) == f"/tmp/res/{folder}"
    else:
      assert command[2:] == ["s2l.report", "/tmp/res"]
  gin.clear_config()
  if name in PAPER:
    assert outputs and commands[-1][2] == "s2l.report"
    assert len(set(outputs)) == len(outputs)


def test_the_probed_layer_plan_probes_table1s_runs_at_fc6():
  setting = plans.Setting(notes="soundfont", budget=BUDGETS["small"])
  table1 = plans.table1(setting)
  experiment = plans.probed_layer(setting)
  # The same pre-trainings (reused when table 1 has run), other probes.
  assert experiment.pretrainings == table1.pretrainings
  assert [p.run for p in experiment.probes] == [p.run for p in table1.probes]
  for ours, theirs in zip(experiment.probes, table1.probes):
    assert ours.bindings == theirs.bindings + (
        "evaluate.layer = 'patch_features'",)


def test_the_plans_cover_the_papers_tables_and_figures():
  assert set(PAPER) == {"table1", "table2", "table3", "table4", "table5",
                        "table6", "figure3", "figure4"}
  setting = plans.Setting(budget=BUDGETS["small"])
  regimes = {}
  for name in ("table1", "table5", "table6"):
    experiment = plans.PLANS[name](setting)
    assert experiment.layout == "methods"
    # One probe per pretext loss and pre-training seed, the random
    # embedding with the first loss's.
    seeds = setting.budget.pretrain_seeds
    assert seeds == (0, 1, 2)
    assert len(experiment.probes) == len(plans.LOSSES) * len(seeds)
    assert sum("'random'" in b for p in experiment.probes
               for b in p.bindings) == len(seeds)
    regimes[name] = {b for p in experiment.probes for b in p.bindings
                     if b.startswith("evaluate.num_examples")}
  assert regimes == {"table1": {"evaluate.num_examples = (1000,)"},
                     "table5": {"evaluate.num_examples = (500,)"},
                     "table6": {"evaluate.num_examples = (5000,)"}}
  assert {name: plans.PLANS[name](setting).layout for name in PAPER} == {
      "table1": "methods", "table2": "slicing", "table3": "methods",
      "table4": "methods", "table5": "methods", "table6": "methods",
      "figure3": "labels", "figure4": "bands"}
  assert plans.figure3(setting).seeds == (0, 1)
  assert plans.figure3(plans.Setting(budget=BUDGETS["full"])).seeds == (
      0, 1, 2, 3, 4)


def test_cells_have_their_seeds_and_the_rate_chosen_for_their_loss():
  setting = plans.Setting(notes="soundfont", budget=BUDGETS["small"])
  runs = {r.name: r for r in plans.table1(setting).pretrainings}
  sweep = {r.name: r for r in plans.lr_sweep(setting).pretrainings}
  chosen = plans.CHOSEN_RATES["soundfont_notes"]
  for loss in plans.LOSSES:
    name = f"soundfont_notes/freq10_{loss}"
    if loss in chosen:
      name += "_lr" + selection.lr_label(chosen[loss])
      # Seed 0 at the chosen rate is the sweep's run, reused as it is.
      assert runs[name] == sweep[name]
    for seed in (0, 1, 2):
      run = runs[name + (f"_seed{seed}" if seed else "")]
      _parse_run(run)
      assert _bound("train.seed", 0) == seed
      assert _bound("train.learning_rate", 1e-5) == chosen.get(loss, 1e-5)
  gin.clear_config()
  # Table 2 and figure 4 share table 1's Perturbed F-Y run of 10 bands.
  pfy = "soundfont_notes/freq10_perturbed_fenchel_young_lr3e-5"
  for plan in (plans.table2, plans.figure4):
    assert runs[pfy] in plan(setting).pretrainings
  # Real data and other twins keep their configs' rates.
  real = plans.table1(plans.Setting("real", budget=BUDGETS["small"]))
  assert not any("learning_rate" in b for r in real.pretrainings
                 for b in r.bindings)


def test_the_steps_curve_probes_each_exported_encoder_on_validation():
  setting = plans.Setting(notes="soundfont", budget=BUDGETS["small"])
  experiment = plans.gain_vs_steps(setting)
  assert experiment.layout == "steps"
  assert len(experiment.pretrainings) == 3  # Pre-training seeds.
  run = experiment.pretrainings[0]
  _parse_run(run)
  *earlier, last = plans.CURVE_STEPS
  assert gin.query_parameter("train.train_steps") == last
  assert gin.query_parameter("train.export_steps") == tuple(earlier)
  # Each is a checkpoint step, as train checks.
  run_spec.check_knobs(**{
      **dict.fromkeys(("batch_size", "log_every", "eval_batches",
                       "embedding_size"), 1),
      "seed": 0, "depth": 3, "dropout": 0.0, "learning_rate": 1.0,
      "width": 1.0, "precision": "float32", "train_steps": last,
      "steps_per_checkpoint": _bound("train.steps_per_checkpoint", 200),
      "export_steps": tuple(earlier)})
  assert gin.query_parameter("train.learning_rate") == plans.CHOSEN_RATES[
      "soundfont_notes"]["perturbed_fenchel_young"]
  gin.clear_config()
  probes = [p for p in experiment.probes if p.run == run.name]
  steps = [next((b.split(" = ")[1] for b in p.bindings
                 if b.startswith("evaluate.encoder_step")), "last")
           for p in probes]
  assert steps == [str(s) for s in earlier] + ["last"]
  assert all("evaluate.score_split = 'validation'" in p.bindings and
             "evaluate.baselines = ('pretrained', 'random')" in p.bindings
             for p in probes)
  outputs = {plans.output_path(experiment, p, "/res") for p in
             experiment.probes}
  assert len(outputs) == len(experiment.probes) == 3 * len(
      plans.CURVE_STEPS)


def test_the_full_budget_pre_trains_the_twins_longer_in_folders_of_its_own(
    monkeypatch, capsys):
  def steps(experiment):
    """The steps each run trains for (runs of one plan share their files
    but for the slicing, so the first run's config gives the default)."""
    run = experiment.pretrainings[0]
    gin.clear_config()
    configurables.parse_gin([os.path.join(ROOT, f) for f in run.gin_files],
                            [])
    default = _bound("train.train_steps", 10000)  # train's own default.
    gin.clear_config()
    return {next((int(b.split(" = ")[1]) for b in reversed(r.bindings)
                  if b.startswith("train.train_steps = ")), default)
            for r in experiment.pretrainings}
  small = plans.Setting(notes="soundfont", budget=BUDGETS["small"])
  full = plans.Setting(notes="soundfont", budget=BUDGETS["full"])
  # The configs' own steps on the small budget; the full budget's on every
  # twin, audio, video and images alike.
  assert steps(plans.table1(small)) == {10000}
  assert steps(plans.table4(small)) == {3000}
  for plan in (plans.table1, plans.table3, plans.table4):
    assert steps(plan(full)) == {BUDGETS["full"].twin_train_steps} == {20000}
  # A plan that binds its own steps keeps them.
  assert plans.gain_vs_steps(full).pretrainings[0].bindings[-2:] == (
      f"train.train_steps = {plans.CURVE_STEPS[-1]}",
      f"train.export_steps = {tuple(plans.CURVE_STEPS[:-1])}")
  # Real data is untouched by the twins' steps.
  assert all(b != "train.train_steps = 20000" for r in plans.table1(
      plans.Setting("real", budget=BUDGETS["full"])).pretrainings
             for b in r.bindings)
  from absl import flags  # pylint: disable=import-outside-toplevel
  from s2l import experiments  # pylint: disable=import-outside-toplevel
  assert experiments.default_folder("runs", "small") == "runs"
  assert experiments.default_folder("runs", "full") == os.path.join(
      "runs", "full")
  assert experiments.default_folder("results", "/my/long.gin") == (
      os.path.join("results", "long"))
  monkeypatch.chdir(ROOT)  # main() moves to the repository; this moves back.
  flags.FLAGS(["experiments", "--experiment=table1", "--notes=soundfont",
               "--budget=full", "--dry_run"])
  try:
    experiments.main(["experiments"])
  finally:
    flags.FLAGS.unparse_flags()
    gin.clear_config()
  printed = capsys.readouterr().out
  model_dirs = {f for line in printed.splitlines()
                for f in shlex.split(line) if f.startswith("--model_dir=")}
  assert model_dirs and all(d.startswith("--model_dir=runs/full/")
                            for d in model_dirs)
  assert "results/full/table1/" in printed


def test_the_data_curve_trains_on_nested_prefixes_of_the_split():
  setting = plans.Setting(notes="soundfont", budget=BUDGETS["small"])
  experiment = plans.gain_vs_data(setting)
  assert experiment.layout == "data"
  sizes = []
  for run in experiment.pretrainings:
    _parse_run(run)
    sizes.append(_bound("train.train_examples", None))
  gin.clear_config()
  seeds = len(setting.budget.pretrain_seeds)
  assert sizes == [n for n in plans.CURVE_EXAMPLES for _ in range(seeds)] + [
      None] * seeds
  # The whole split's runs are table 1's.
  table1 = {r.name: r for r in plans.table1(setting).pretrainings}
  for run in experiment.pretrainings[-seeds:]:
    assert table1[run.name] == run
  assert all("evaluate.score_split = 'validation'" in p.bindings
             for p in experiment.probes)


def test_the_width_curve_changes_only_the_width_and_reuses_table1s_run():
  setting = plans.Setting(notes="soundfont", budget=BUDGETS["small"])
  experiment = plans.gain_vs_width(setting)
  assert experiment.layout == "width"
  widths = []
  for run in experiment.pretrainings:
    _parse_run(run)
    widths.append(_bound("train.width", 0.25))
    assert gin.query_parameter("train.learning_rate") == 3e-5
  gin.clear_config()
  seeds = len(setting.budget.pretrain_seeds)
  assert widths == [w for w in plans.WIDTHS for _ in range(seeds)]
  # Width 0.25, the configs' own, is table 1's run; the others differ from
  # it only by their width.
  table1 = {r.name: r for r in plans.table1(setting).pretrainings}
  for run in experiment.pretrainings[:seeds]:
    assert table1[run.name] == run
  wider = experiment.pretrainings[seeds]
  assert wider.name == ("soundfont_notes/freq10_perturbed_fenchel_young_"
                        "width0.5_lr3e-5")
  assert set(wider.bindings) - set(experiment.pretrainings[0].bindings) == {
      "train.width = 0.5"}
  assert all("evaluate.score_split = 'validation'" in p.bindings
             for p in experiment.probes)


def _parse_run(run):
  """Parses a plan's pre-training as s2l.train does: its gin files, then its
  bindings, on a cleared config."""
  gin.clear_config()
  configurables.parse_gin([os.path.join(ROOT, f) for f in run.gin_files],
                          list(run.bindings))


def _bound(key, default):
  """A gin parameter's bound value, or the function's default."""
  try:
    return gin.query_parameter(key)
  except ValueError:
    return default


def _committed_sweep(source):
  """The committed validation probes of twin `source`'s sweep."""
  folder = os.path.join(ROOT, "results", source, "lr_sweep")
  results = []
  for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else ():
    if name.endswith(".json") and name != "experiment.json":
      with open(os.path.join(folder, name)) as f:
        results.append(json.load(f))
  return results


@pytest.mark.parametrize("source", ["soundfont_notes", "physics_video",
                                    "emoji_images"])
def test_the_chosen_rates_are_what_the_rule_makes_of_the_committed_sweep(
    source):
  by_class = {cls.__name__: name for name, cls in losses.REGISTRY.items()}
  chosen = selection.choose(_committed_sweep(source))
  settled = {by_class[loss]: rate for loss, (rate, ranked) in chosen.items()
             if selection.settled(ranked, plans.sweep_grid(source))}
  assert plans.CHOSEN_RATES.get(source, {}) == settled


def test_the_sweep_runs_every_loss_at_every_rate_and_probes_validation():
  experiment = plans.lr_sweep(plans.Setting(notes="soundfont",
                                            budget=BUDGETS["small"]))
  assert experiment.layout == "sweep"
  runs = {r.name: r for r in experiment.pretrainings}
  assert len(runs) == len(plans.PAPER_LOSSES) * len(plans.LEARNING_RATES)
  assert "soundfont_notes/freq10_mse_lr3e-6" in runs
  for loss in plans.PAPER_LOSSES:
    for lr in plans.LEARNING_RATES:
      run = runs[
          f"soundfont_notes/freq10_{loss}_lr{selection.lr_label(lr)}"]
      assert run.gin_files == ("gin/soundfont_notes_freq10.gin",
                               f"gin/losses/{loss}.gin")
      _parse_run(run)
      assert gin.query_parameter("train.learning_rate") == lr
  gin.clear_config()
  # Selection never reads the test split.
  assert all("evaluate.score_split = 'validation'" in p.bindings and
             "evaluate.baselines = ('pretrained', 'random')" in p.bindings
             for p in experiment.probes)
  assert [selection.lr_label(lr) for lr in (3e-6, 1e-5, 2.5e-4, 0.1)] == [
      "3e-6", "1e-5", "2.5e-4", "1e-1"]


def test_the_ablations_change_one_thing_each_and_name_their_probes():
  setting = plans.Setting(notes="soundfont", budget=BUDGETS["small"])
  experiment = plans.ablations(setting)
  runs = {r.name: r for r in experiment.pretrainings}
  probes = {p.name: p for p in experiment.probes}
  assert list(probes) == [a.name for a in plans.ABLATIONS]
  for ablation in plans.ABLATIONS:
    probe = probes[ablation.name]
    assert probe.description == ablation.change
    # 1000 labels against the run's own initial weights, then the change.
    assert probe.bindings == ("evaluate.num_examples = (1000,)",
                              "evaluate.baselines = ('pretrained', 'random')"
                              ) + ablation.probe
    if ablation.run:  # A probe-only change probes the default's run.
      assert probe.run == "soundfont_notes/ablations/default"
      assert probe.run in runs and not ablation.train
    else:
      run = runs[probe.run]
      assert run.gin_files == ("gin/soundfont_notes_freq10.gin",)
      assert run.bindings == ablation.train
  assert "train.learning_rate = 1e-6" in runs[
      "soundfont_notes/ablations/lr1e-6"].bindings
  assert "train.dropout = 0.5" in runs[
      "soundfont_notes/ablations/dropout_lr1e-4"].bindings
  # Two probes of one run write two files; the report reads each change.
  outputs = [plans.output_path(experiment, p, "/res")
             for p in experiment.probes]
  assert "/res/ablations/probe_raw.json" in outputs
  assert len(set(outputs)) == len(outputs)
  record = plans.layout_record(experiment, setting, "small")
  assert record["layout"] == "ablations"
  assert record["descriptions"]["probe_first.json"].startswith(
      "labelled examples: the first 1000")


def test_the_set_size_plan_changes_only_fixed_permutations_set_and_rate():
  setting = plans.Setting(notes="soundfont", budget=BUDGETS["small"])
  experiment = plans.permutation_set_size(setting)
  assert experiment.layout == "ablations"
  assert [p.name for p in experiment.probes] == [
      "L1000_lr3e-5", "L10_lr3e-5", "L100_lr3e-5", "L1000_lr3e-6"]
  for run, probe, (size, rate) in zip(experiment.pretrainings,
                                      experiment.probes,
                                      plans.PERMUTATION_SETS):
    assert probe.run == run.name and run.seed == 0
    assert run.gin_files == ("gin/soundfont_notes_freq10.gin",
                             "gin/losses/fixed_permutations100.gin")
    # Parsed as s2l.train parses them: the set size and rate are bound.
    _parse_run(run)
    assert gin.query_parameter("train.learning_rate") == rate
    assert gin.query_parameter(
        "FixedPermutationLoss.num_permutations") == size
    gin.clear_config()
    # Validation only: nothing here is read off the test split.
    assert "evaluate.score_split = 'validation'" in probe.bindings
    assert str(size) in probe.description
  record = plans.layout_record(experiment, setting, "small")
  assert record["descriptions"]["L10_lr3e-5.json"].startswith("10 maximal")


def test_the_random_labels_plan_changes_only_the_labels_and_rate():
  setting = plans.Setting(notes="soundfont", budget=BUDGETS["small"])
  experiment = plans.random_labels(setting)
  assert [p.name for p in experiment.probes] == ["L100_lr3e-6",
                                                 "L100_lr3e-5"]
  for run, probe, rate in zip(experiment.pretrainings, experiment.probes,
                              plans.RANDOM_LABEL_RATES):
    assert probe.run == run.name and run.seed == 0
    assert run.gin_files == ("gin/soundfont_notes_freq10.gin",
                             "gin/losses/fixed_permutations100.gin")
    _parse_run(run)
    assert gin.query_parameter("train.learning_rate") == rate
    assert gin.query_parameter("FixedPermutationLoss.random_labels") is True
    gin.clear_config()
    assert "evaluate.score_split = 'validation'" in probe.bindings
    assert "evaluate.baselines = ('pretrained', 'random')" in probe.bindings


def test_the_score_targets_plan_changes_one_thing_per_loss_at_its_rate():
  setting = plans.Setting(notes="soundfont", budget=BUDGETS["small"])
  experiment = plans.score_targets(setting)
  assert [p.name for p in experiment.probes] == [
      "mse_centred_lr1e-4", "mse_centred_scale0.1_lr1e-4",
      "fsr_strength0.1_lr3e-5", "mse_scale0.1_lr1e-4",
      "fsr_strength0.01_lr3e-5"]
  expected = [("mse", {"RankMSELoss.centered": True,
                       "RankMSELoss.target_scale": 1.0}),
              ("mse", {"RankMSELoss.centered": True,
                       "RankMSELoss.target_scale": 0.1}),
              ("fast_soft_ranking",
               {"SoftRankLoss.regularization_strength": 0.1}),
              ("mse", {"RankMSELoss.centered": False,
                       "RankMSELoss.target_scale": 0.1}),
              ("fast_soft_ranking",
               {"SoftRankLoss.regularization_strength": 0.01})]
  for run, probe, (loss, bound) in zip(experiment.pretrainings,
                                       experiment.probes, expected):
    assert probe.run == run.name and run.seed == 0
    assert run.gin_files == ("gin/soundfont_notes_freq10.gin",
                             f"gin/losses/{loss}.gin")
    _parse_run(run)
    # Each loss at the rate its sweep chose on validation.
    assert gin.query_parameter("train.learning_rate") == (
        plans.CHOSEN_RATES["soundfont_notes"][loss])
    for parameter, value in bound.items():
      if (parameter, value) in (("RankMSELoss.target_scale", 1.0),
                                ("RankMSELoss.centered", False)):
        with pytest.raises(ValueError):
          gin.query_parameter(parameter)  # the default, not bound
      else:
        assert gin.query_parameter(parameter) == value
    gin.clear_config()
    assert "evaluate.score_split = 'validation'" in probe.bindings
    assert "evaluate.baselines = ('pretrained', 'random')" in probe.bindings


def test_pretrain_twins_covers_every_twin_of_the_papers_data():
  experiment = plans.pretrain_twins(plans.Setting())
  configs = {os.path.basename(r.gin_files[0]) for r in experiment.pretrainings}
  names = {"soundfont_notes"} | {s.twin for s in sources.SOURCES.values()
                                 if s.twin}
  assert names == {"synthetic_notes", "soundfont_notes", "physics_video",
                   "emoji_images"}
  twins = {f for f in os.listdir(configurables.GIN_DIR)
           if f.endswith(".gin") and any(f.startswith(n + "_") for n in names)}
  assert configs == twins and not experiment.probes


def test_declarations_are_checked():
  with pytest.raises(ValueError, match="probes runs it does not pre-train"):
    plans.Experiment("t", "T", "methods",
                     (plans.Pretraining("a", ("x.gin",)),),
                     (plans.Probe("b"),))
  with pytest.raises(ValueError, match="layout must be one of"):
    plans.Experiment("t", "T", "pie", ())
  with pytest.raises(ValueError, match="data must be one of"):
    plans.Setting(data="nsynth")
  with pytest.raises(ValueError, match="neither a gin file nor one of "
                     r"\['full', 'small'\]"):
    configurables.load_budget("huge")


def _script(script, *args, **env):
  return subprocess.run(
      ["bash", os.path.join(ROOT, "experiments", script), *args],
      env=dict(os.environ, PYTHON=sys.executable, **env),
      capture_output=True, text=True, timeout=300)


def test_scripts_are_thin_wrappers_that_pass_flags_and_old_settings():
  # Flags and the environment variables of earlier versions mean the same.
  by_flags = _script("table4.sh", "--data=real", "--budget=full",
                     "--data_dir=/data/tfds", "--runs=/tmp/runs",
                     "--results=/tmp/res", "--dry_run",
                     "--gin_param=train.seed = 3")
  by_env = _script("table4.sh", "--gin_param=train.seed = 3", DATA="real",
                   BUDGET="full", DATA_DIR="/data/tfds", RUNS="/tmp/runs",
                   RESULTS="/tmp/res", DRY_RUN="1")
  assert by_flags.returncode == 0, by_flags.stderr
  commands = [shlex.split(line) for line in by_flags.stdout.splitlines()]
  assert commands == [shlex.split(line) for line in by_env.stdout.splitlines()]
  assert commands == _commands("table4", "real", "full", train_args=[
      "--gin_param=train.seed = 3"])
  for args in (["--data=nsynth"], ["--budget=huge"]):
    refused = _script("table1.sh", "--dry_run", *args)
    assert refused.returncode != 0
    assert "nsynth" in refused.stderr or "huge" in refused.stderr


def test_the_layout_record_is_what_the_report_follows(tmp_path):
  experiment = plans.Experiment(
      "mine", "Mine", "slicing", (plans.Pretraining("x/run", ("a.gin",)),),
      (plans.Probe("x/run"),))
  record = plans.layout_record(experiment, plans.Setting(), "small")
  assert record["layout"] == "slicing" and record["probes"] == ["run.json"]
  (tmp_path / "mine").mkdir()
  (tmp_path / "mine" / "experiment.json").write_text(json.dumps(record))
  from s2l import report  # pylint: disable=import-outside-toplevel
  assert report.layout(str(tmp_path / "mine")) == {
      "name": "mine", "title": "Mine", "layout": "slicing"}


def test_the_layout_record_is_written_whole_or_not_at_all(tmp_path,
                                                          monkeypatch):
  from s2l import report  # pylint: disable=import-outside-toplevel
  experiment = plans.Experiment(
      "mine", "Mine", "slicing", (plans.Pretraining("x/run", ("a.gin",)),),
      (plans.Probe("x/run"),))
  path = plans.write_layout(experiment, plans.Setting(), str(tmp_path),
                            "small")
  assert path == str(tmp_path / "mine" / "experiment.json")
  assert json.load(open(path))["setting"]["budget"] == "small"
  before = open(path).read()

  def fail(src, dst):
    raise OSError(f"preempted before renaming {src} to {dst}")

  # Written to a temporary file, then renamed: a failed rename leaves the
  # previous layout as it was, and no temporary file.
  monkeypatch.setattr(os, "replace", fail)
  with pytest.raises(OSError, match="preempted"):
    plans.write_layout(
        plans.Experiment("mine", "Other", "methods", experiment.pretrainings,
                         experiment.probes), plans.Setting(), str(tmp_path),
        "full")
  assert open(path).read() == before
  assert os.listdir(tmp_path / "mine") == ["experiment.json"]
  assert report.layout(str(tmp_path / "mine"))["title"] == "Mine"


def test_the_frames_plan_varies_only_the_frames_and_reuses_table3s_run():
  setting = plans.Setting(notes="soundfont", budget=BUDGETS["small"])
  experiment = plans.frames_video(setting)
  assert experiment.layout == "frames"
  table3 = {r.name: r for r in plans.table3(setting).pretrainings}
  frames = {}
  for run in experiment.pretrainings:
    _parse_run(run)
    frames[run.name] = (_bound("VideoFrontend.num_frames", 20),
                        _bound("train.seed", 0))
    assert gin.query_parameter("train.source") == "physics_video"
    assert _bound("train.learning_rate", None) == 1e-4
    if frames[run.name][0] == 20:
      # The 20-frame runs are table 3's Perturbed F-Y runs, as they are.
      assert table3[run.name] == run
  gin.clear_config()
  assert sorted(frames.values()) == [(f, seed) for f in plans.FRAMES
                                     for seed in (0, 1, 2)]
  assert all(p.bindings == plans.OWN_RANDOM_1000 for p in experiment.probes)
  assert [p.run for p in experiment.probes] == [
      r.name for r in experiment.pretrainings]


def _fake_subprocess(calls, score_of=lambda model_dir: 0.1):
  """A subprocess.run that records (module, model_dir) and, for a probe,
  writes a validation JSON whose family gain over random is score_of(run)."""
  def run(line, check=False):
    del check
    module = line[2]
    flags = _flags(line)
    model_dir = flags.get("model_dir", [None])[0]
    calls.append((module, model_dir))
    if module == "s2l.evaluate":
      params = dict(p.split(" = ", 1) for p in flags["gin_param"])
      output = params["evaluate.output"].strip("'")
      cell = lambda mean: {"1000": {"metric": "accuracy", "mean": mean,
                                    "values": [mean], "std": 0.0}}
      os.makedirs(os.path.dirname(output), exist_ok=True)
      with open(output, "w") as f:
        json.dump({"model_dir": model_dir, "test_split": "validation",
                   "results": {"family": {
                       "pretrained": cell(0.5 * (1 + score_of(model_dir))),
                       "random": cell(0.5)}}}, f)
    return subprocess.CompletedProcess(line, 0)
  return run


def _main(monkeypatch, argv):
  from absl import flags  # pylint: disable=import-outside-toplevel
  from s2l import experiments  # pylint: disable=import-outside-toplevel
  monkeypatch.chdir(ROOT)
  flags.FLAGS(["experiments", *argv])
  try:
    experiments.main(["experiments"])
  finally:
    flags.FLAGS.unparse_flags()
    gin.clear_config()


@pytest.fixture(name="fake_table3")
def _fake_table3(tmp_path, monkeypatch):
  """(calls, argv): `s2l.experiments`' subprocesses faked and recorded in
  `calls`, and the flags that run table 3 under tmp_path."""
  from s2l import experiments  # pylint: disable=import-outside-toplevel
  calls = []
  monkeypatch.setattr(experiments.subprocess, "run", _fake_subprocess(calls))
  return calls, ["--experiment=table3", f"--runs={tmp_path}/runs",
                 f"--results={tmp_path}/res"]


def test_each_run_is_probed_after_it_trains_and_nothing_done_runs_again(
    tmp_path, monkeypatch, fake_table3):
  calls, argv = fake_table3
  _main(monkeypatch, argv)
  runs = plans.table3(plans.Setting(budget=BUDGETS["small"])).pretrainings
  assert len(runs) == 12
  # Train, probe, train, probe, ..., then the report.
  expected = []
  for run in runs:
    expected += [("s2l.train", f"{tmp_path}/runs/{run.name}"),
                 ("s2l.evaluate", f"{tmp_path}/runs/{run.name}")]
  assert calls == expected + [("s2l.report", None)]
  # Again: every probe is in the results folder, nothing trains or probes.
  calls.clear()
  _main(monkeypatch, argv)
  assert calls == [("s2l.report", None)]
  # One probe lost: only its run trains (resumes) and is probed again.
  lost = f"{tmp_path}/res/table3/{os.path.basename(runs[4].name)}.json"
  os.remove(lost)
  calls.clear()
  _main(monkeypatch, argv)
  assert calls == expected[8:10] + [("s2l.report", None)]
  # --reprobe probes everything again.
  calls.clear()
  _main(monkeypatch, argv + ["--reprobe"])
  assert calls == expected + [("s2l.report", None)]
  # A JSON of another run under a probe's name is not overwritten.
  with open(lost) as f:
    other = json.load(f)
  other["model_dir"] = "runs/elsewhere/freq10_mse"
  with open(lost, "w") as f:
    json.dump(other, f)
  calls.clear()
  with pytest.raises(SystemExit, match="is a probe of 'runs/elsewhere/"):
    _main(monkeypatch, argv)
  assert calls == []
  # A committed probe from another runs folder is the same run's.
  other["model_dir"] = f"/elsewhere/runs/{runs[4].name}"
  with open(lost, "w") as f:
    json.dump(other, f)
  _main(monkeypatch, argv)
  assert calls == [("s2l.report", None)]


def test_a_sweep_until_settled_runs_only_the_rates_the_rule_needs(
    tmp_path, monkeypatch, capsys):
  from s2l import experiments  # pylint: disable=import-outside-toplevel
  grid = plans.SHORT_LEARNING_RATES
  peaks = {"perturbed_fenchel_young": 3e-5, "fast_soft_ranking": 3e-4,
           "mse": 1e-5, "fixed_permutations100": 1e-4}
  def score_of(model_dir):
    name = os.path.basename(model_dir)[len("frames20_"):]
    loss, lr = name.rsplit("_lr", 1)
    rate = next(r for r in grid if selection.lr_label(r) == lr)
    return 0.3 - 0.1 * abs(grid.index(rate) - grid.index(peaks[loss]))
  calls = []
  monkeypatch.setattr(experiments.subprocess, "run",
                      _fake_subprocess(calls, score_of))
  argv = ["--experiment=lr_sweep_video", f"--runs={tmp_path}/runs",
          f"--results={tmp_path}/res", "--until_settled"]
  _main(monkeypatch, argv)
  trained = [os.path.basename(d) for m, d in calls if m == "s2l.train"]
  # Three rates of four per loss, each probed right after it trains.
  assert len(trained) == 12
  assert [m for m, _ in calls] == ["s2l.train", "s2l.evaluate"] * 12 + [
      "s2l.report"]
  printed = capsys.readouterr().out
  for loss, peak in peaks.items():
    assert f"frames20_{loss}_lr{selection.lr_label(peak)}" in trained
    assert (f"{loss}: settled at learning rate {selection.lr_label(peak)} "
            "after 3 of 4 rates") in printed
  assert len(list((tmp_path / "res" / "lr_sweep").glob("frames20_*.json"))
             ) == 12
  # Settled: running again trains nothing.
  calls.clear()
  _main(monkeypatch, argv)
  assert calls == [("s2l.report", None)]
  # Only sweeps can stop early.
  with pytest.raises(Exception, match="applies to a learning-rate sweep"):
    _main(monkeypatch, ["--experiment=table3", "--until_settled",
                        f"--results={tmp_path}/res"])


def test_a_run_knows_its_seed_and_a_plan_can_run_one_seed_at_a_time():
  table3 = plans.table3(plans.Setting(budget=BUDGETS["small"]))
  assert [r.seed for r in table3.pretrainings] == [0, 1, 2] * 4
  assert plans.Pretraining("x", (), ("train.seed = 1", "train.seed=2")
                           ).seed == 2
  seed0 = table3.only_seeds([0])
  assert [r.name for r in seed0.pretrainings] == [
      r.name for r in table3.pretrainings[::3]]
  assert [p.run for p in seed0.probes] == [r.name
                                           for r in seed0.pretrainings]
  # The first loss's probe, which carries the random encoder, stays as is.
  assert seed0.probes[0] == table3.probes[0]
  assert len(table3.only_seeds([1, 2]).pretrainings) == 8
  with pytest.raises(ValueError, match=r"seeds \[0, 1, 2\], none of \[5\]"):
    table3.only_seeds([5])


def test_pretrain_seed_runs_one_seed_and_lays_out_the_whole_plan(
    tmp_path, monkeypatch, fake_table3):
  calls, argv = fake_table3
  _main(monkeypatch, argv + ["--pretrain_seed=0"])
  runs = plans.table3(plans.Setting(budget=BUDGETS["small"])).pretrainings
  trained = [d for m, d in calls if m == "s2l.train"]
  assert trained == [f"{tmp_path}/runs/{r.name}" for r in runs[::3]]
  with open(tmp_path / "res" / "table3" / "experiment.json") as f:
    assert len(json.load(f)["probes"]) == 12
  # The other seeds later: only their runs train.
  calls.clear()
  _main(monkeypatch, argv + ["--pretrain_seed=1", "--pretrain_seed=2"])
  trained = [d for m, d in calls if m == "s2l.train"]
  assert len(trained) == 8 and all("_seed" in d for d in trained)
  with pytest.raises(Exception, match="none of"):
    _main(monkeypatch, argv + ["--pretrain_seed=7"])


def test_a_plan_can_run_some_of_its_losses():
  table5 = plans.table5(plans.Setting(notes="soundfont",
                                      budget=BUDGETS["small"]))
  assert len(table5.pretrainings) == 3 * len(plans.LOSSES)
  paper = table5.only_losses(["mse", "perturbed_fenchel_young"])
  assert [r.name.split("/")[1] for r in paper.pretrainings] == [
      "freq10_perturbed_fenchel_young_lr3e-5",
      "freq10_perturbed_fenchel_young_lr3e-5_seed1",
      "freq10_perturbed_fenchel_young_lr3e-5_seed2",
      "freq10_mse_lr1e-4", "freq10_mse_lr1e-4_seed1",
      "freq10_mse_lr1e-4_seed2"]
  assert [p.run for p in paper.probes] == [r.name
                                           for r in paper.pretrainings]
  # With --pretrain_seed: one run per loss.
  assert len(paper.only_seeds([1]).pretrainings) == 2
  with pytest.raises(ValueError, match="unknown losses \\['msee'\\]"):
    table5.only_losses(["msee"])
  figure4 = plans.figure4(plans.Setting(notes="soundfont",
                                        budget=BUDGETS["small"]))
  with pytest.raises(ValueError, match="none of \\['mse'\\]"):
    figure4.only_losses(["mse"])


def test_loss_runs_only_those_losses_and_lays_out_the_whole_plan(
    tmp_path, monkeypatch, fake_table3):
  calls, argv = fake_table3
  _main(monkeypatch, argv + ["--loss=mse", "--pretrain_seed=2"])
  trained = [d for m, d in calls if m == "s2l.train"]
  assert trained == [f"{tmp_path}/runs/physics_video/frames20_mse_lr1e-4"
                     "_seed2"]
  with open(tmp_path / "res" / "table3" / "experiment.json") as f:
    assert len(json.load(f)["probes"]) == 12
  with pytest.raises(Exception, match="unknown losses"):
    _main(monkeypatch, argv + ["--loss=nope"])
