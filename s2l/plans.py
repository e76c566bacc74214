"""The paper's tables and figures, declared as data (see `s2l.experiments`).

An `Experiment` lists the pre-trainings it needs (`Pretraining`: gin files
and bindings of one `s2l.train` run), the probes it makes of them (`Probe`:
`evaluate.*` bindings of one `s2l.evaluate` call) and how `s2l.report` lays
the results out (`layout`). A plan is a function of the `Setting` (which data,
which budget) that returns one; `commands` turns it into the command lines,
one subprocess each.

Budgets are gin files (gin/budgets/small.gin, full.gin) that bind `Budget`.
"""

import dataclasses
import os
import re
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from s2l import atomic
from s2l import losses
from s2l import selection
from s2l.data import sources

LAYOUTS = ("methods", "slicing", "bands", "frames", "labels", "steps",
           "data", "width", "sweep", "ablations",
           "none")
DATA = ("embedded", "real")
NOTES = ("synthetic", "soundfont")


@dataclasses.dataclass(frozen=True)
class Budget:
  """How much compute an experiment spends (bound in gin/budgets/*.gin).

  Attributes:
    probe_seeds: probe seeds per cell.
    real_train_steps: on real data, pre-training steps instead of the
      configs' own (the paper's 1000 epochs); None keeps the configs'.
    twin_train_steps: on the embedded twins, pre-training steps instead of
      the configs' own (set so that one run pre-trains in minutes on 2
      cores); None keeps the configs'. A plan that binds its own steps
      (`gain_vs_steps`) keeps them.
    figure3_regimes: numbers of labelled examples of figure 3.
    figure3_seeds: probe seeds of figure 3.
    figure3_supervised_epochs: epochs of figure 3's end-to-end baseline.
    pretrain_seeds: pre-training seeds (`train.seed`) of each cell of the
      paper's tables and figures; report pools them with the probe seeds.
  """
  probe_seeds: Tuple[int, ...] = (0, 1, 2)
  real_train_steps: Optional[int] = 50000
  twin_train_steps: Optional[int] = None
  figure3_regimes: Tuple[int, ...] = (200, 1000, 5000)
  figure3_seeds: Tuple[int, ...] = (0, 1)
  figure3_supervised_epochs: int = 20
  pretrain_seeds: Tuple[int, ...] = (0,)


@dataclasses.dataclass(frozen=True)
class Setting:
  """Which data and budget an experiment runs with.

  Attributes:
    data: "embedded" (the twins s2l builds offline) or "real" (the paper's
      data sets, prepared in `data_dir` beforehand).
    notes: with embedded data, the audio twin: "synthetic" or "soundfont".
    budget: the compute budget.
    data_dir: TFDS data directory of the real data sets.
  """
  data: str = "embedded"
  notes: str = "synthetic"
  budget: Budget = Budget()
  data_dir: Optional[str] = None

  def __post_init__(self):
    if self.data not in DATA:
      raise ValueError(f"data must be one of {DATA}, got {self.data!r}.")
    if self.notes not in NOTES:
      raise ValueError(f"notes must be one of {NOTES}, got {self.notes!r}.")

  @property
  def real(self) -> bool:
    return self.data == "real"

  def _source(self, real: str) -> str:
    """A paper data set, or its embedded twin (`sources.twin`)."""
    return real if self.real else sources.twin(real, f"{self.notes}_notes")

  @property
  def audio(self) -> str:
    return self._source("nsynth")

  @property
  def video(self) -> str:
    return self._source("something_something_v2")

  @property
  def images(self) -> str:
    return self._source("imagenet2012")

  def chosen_rate(self, source: str, loss: str) -> Optional[float]:
    """`loss`'s chosen learning rate on the embedded twin `source`
    (`CHOSEN_RATES`); None for real data or a loss whose rate is not
    settled (it trains at its config's rate)."""
    return None if self.real else CHOSEN_RATES.get(source, {}).get(loss)

  def train_bindings(self) -> Tuple[str, ...]:
    """Bindings every pre-training of this setting takes."""
    if not self.real:
      steps = self.budget.twin_train_steps
      return () if steps is None else (f"train.train_steps = {steps}",)
    bindings = []
    if self.data_dir:
      bindings.append(f"train.data_dir = '{self.data_dir}'")
    if self.budget.real_train_steps is not None:
      bindings.append(f"train.train_steps = {self.budget.real_train_steps}")
    return tuple(bindings)


@dataclasses.dataclass(frozen=True)
class Pretraining:
  """One `s2l.train` run.

  Attributes:
    name: its directory under the runs folder, e.g. "nsynth/freq10_mse".
    gin_files: config files, in order.
    bindings: gin bindings after the files.
    group, value: a sweep's candidate: the loss it belongs to and the
      learning rate it tries (`s2l.selection`); "" and None elsewhere. They
      describe the run, not make it: a sweep's run equals a table's run of
      the same name, files and bindings (the table reuses it).
  """
  name: str
  gin_files: Tuple[str, ...]
  bindings: Tuple[str, ...] = ()
  group: str = dataclasses.field(default="", compare=False)
  value: Optional[float] = dataclasses.field(default=None, compare=False)

  @property
  def seed(self) -> int:
    """Its pre-training seed: the last `train.seed` binding, else 0 (the
    default of `train`)."""
    seeds = [int(m.group(1)) for b in self.bindings
             for m in [re.fullmatch(r"\s*train\.seed\s*=\s*(\d+)\s*", b)]
             if m]
    return seeds[-1] if seeds else 0


@dataclasses.dataclass(frozen=True)
class Probe:
  """One `s2l.evaluate` call, written to RESULTS/<experiment>/<name>.json.

  Attributes:
    run: the `Pretraining.name` it probes.
    bindings: its `evaluate.*` bindings (the seeds and output are added).
    name: the JSON's name; the run's base name if empty (two probes of one
      run need names).
    description: what it changes, for the report (ablations).
  """
  run: str
  bindings: Tuple[str, ...] = ()
  name: str = ""
  description: str = ""


@dataclasses.dataclass(frozen=True)
class Experiment:
  """A table or figure of the paper.

  Attributes:
    name: "table1", ...; also its results folder.
    title: what the report calls it.
    layout: how `s2l.report` lays out its results, one of `LAYOUTS`.
    pretrainings: the runs it needs (finished ones are reused).
    probes: the probes it makes, in order.
    seeds: probe seeds.
  """
  name: str
  title: str
  layout: str
  pretrainings: Tuple[Pretraining, ...]
  probes: Tuple[Probe, ...] = ()
  seeds: Tuple[int, ...] = (0, 1, 2)

  def __post_init__(self):
    if self.layout not in LAYOUTS:
      raise ValueError(f"layout must be one of {LAYOUTS}, got "
                       f"{self.layout!r}.")
    names = {p.name for p in self.pretrainings}
    unknown = [p.run for p in self.probes if p.run not in names]
    if unknown:
      raise ValueError(f"{self.name} probes runs it does not pre-train: "
                       f"{unknown}.")

  def only_seeds(self, seeds: Sequence[int]) -> "Experiment":
    """The part of the plan pre-trained with one of `seeds` (`train.seed`),
    with its probes: a session can run one seed of every cell first and the
    others later, while the report pools whichever probes are there.
    Raises ValueError if none of its runs has one of them."""
    runs = tuple(r for r in self.pretrainings if r.seed in seeds)
    if not runs:
      raise ValueError(
          f"{self.name} pre-trains with seeds "
          f"{sorted({r.seed for r in self.pretrainings})}, none of "
          f"{sorted(seeds)}.")
    return self._only(runs)

  def only_losses(self, names: Sequence[str]) -> "Experiment":
    """The part of the plan pre-trained with one of the losses `names`
    (registered names, `s2l.losses.REGISTRY`; a run's loss is its
    gin/losses/<name>.gin), with its probes: a table's paper losses can run
    before the others. Raises ValueError for an unknown loss or if none of
    its runs pre-trains with one of them."""
    unknown = sorted(set(names) - set(LOSSES))
    if unknown:
      raise ValueError(f"unknown losses {unknown}: the registered ones are "
                       f"{list(LOSSES)}.")
    files = {_loss_file(name) for name in names}
    runs = tuple(r for r in self.pretrainings if files & set(r.gin_files))
    if not runs:
      raise ValueError(f"{self.name} pre-trains none of {sorted(names)}.")
    return self._only(runs)

  def _only(self, runs: Tuple[Pretraining, ...]) -> "Experiment":
    names = {r.name for r in runs}
    return dataclasses.replace(
        self, pretrainings=runs,
        probes=tuple(p for p in self.probes if p.run in names))


def _loss_file(loss: str) -> str:
  return f"gin/losses/{loss}.gin"


def _tuple(values: Sequence) -> str:
  """A Python/gin tuple literal: (1000,) or ('pretrained', 'random')."""
  return "(" + ", ".join(repr(v) for v in values) + ("," if len(values) == 1
                                                      else "") + ")"


def seeded(s: Setting, name: str, gin_files: Tuple[str, ...], source: str,
           loss: str, bindings: Tuple[str, ...] = ()) -> List[Pretraining]:
  """One pre-training of `loss` per seed of the budget.

  The run is named `name`, then "_lr<rate>" when the loss has a chosen rate
  on the twin `source` (`CHOSEN_RATES`; it is then bound), then
  "_seed<k>" for a seed other than 0: seed 0 at a chosen rate is the very
  run of the learning-rate sweep, which is reused.
  """
  rate = s.chosen_rate(source, loss)
  if rate is not None:
    name += "_lr" + selection.lr_label(rate)
  binding = () if rate is None else (f"train.learning_rate = {rate!r}",)
  return [Pretraining(name + (f"_seed{seed}" if seed else ""), gin_files,
                      s.train_bindings() + binding + bindings +
                      ((f"train.seed = {seed}",) if seed else ()))
          for seed in s.budget.pretrain_seeds]


# Every table and figure that compares losses is one call (hence more than
# ten arguments: what differs between them).
def _compare_losses(name: str, title: str, layout: str, s: Setting,
                    source: str, base: str, losses: Sequence[str],
                    regimes: Sequence[int], first_baselines: Sequence[str],
                    extra: Sequence[str] = (), seeds=None) -> Experiment:
  """Pre-trains <source>/<base's slicing>_<loss> from gin/<source>_<...>.gin
  for each loss and seed, then probes each on `regimes` labels; the first
  loss's probes also carry `first_baselines` (every loss of one seed starts
  from the same initial weights)."""
  runs, probes = [], []
  baselines = first_baselines
  for loss in losses:
    loss_runs = seeded(s, f"{source}/{base}_{loss}",
                       (f"gin/{source}_{base}.gin", _loss_file(loss)),
                       source, loss)
    runs += loss_runs
    probes += [Probe(run.name, (
        f"evaluate.num_examples = {_tuple(regimes)}",
        f"evaluate.baselines = {_tuple(baselines)}", *extra))
               for run in loss_runs]
    baselines = ("pretrained",)
  return Experiment(name, title, layout, tuple(runs), tuple(probes),
                    seeds or s.budget.probe_seeds)


# Every registered loss, in order of declaration, and those the paper
# compares (s2l.losses.register is the one list).
LOSSES = tuple(losses.REGISTRY)
PAPER_LOSSES = tuple(name for name in LOSSES
                     if losses.REGISTRY[name].column is not None)


def _losses_table(name: str, title: str, regimes: Sequence[int],
                  s: Setting) -> Experiment:
  return _compare_losses(name, title, "methods", s, s.audio, "freq10",
                         LOSSES, regimes, ("pretrained", "random"))


def table1(s: Setting) -> Experiment:
  """Every pretext loss and the random embedding, 1000 labels."""
  return _losses_table("table1", "Table 1: every pretext loss, 1000 labels",
                       (1000,), s)


def probed_layer(s: Setting) -> Experiment:
  """Table 1's runs, probed at every patch's fc6 features (the layer the
  embedding is computed from) instead of the embedding: whether a loss's
  pre-training puts into its patch features what its embedding loses."""
  return _compare_losses(
      "probed_layer", "Table 1's runs probed at the patch features (fc6)",
      "methods", s, s.audio, "freq10", LOSSES, (1000,),
      ("pretrained", "random"), ("evaluate.layer = 'patch_features'",))


def table5(s: Setting) -> Experiment:
  """Table 1 at 500 labels."""
  return _losses_table("table5", "Table 5: every pretext loss, 500 labels",
                       (500,), s)


def table6(s: Setting) -> Experiment:
  """Table 1 at 5000 labels."""
  return _losses_table("table6", "Table 6: every pretext loss, 5000 labels",
                       (5000,), s)


def _pfy_runs(s: Setting, slicings: Sequence[str]) -> List[Pretraining]:
  """Perturbed F-Y runs of the audio twin, per slicing and seed."""
  base = f"gin/{s.audio}_freq10.gin"
  loss = "perturbed_fenchel_young"
  runs = []
  for slicing in slicings:
    runs += seeded(s, f"{s.audio}/{slicing}_{loss}",
                   (base, _loss_file(loss)) if slicing == "freq10" else
                   (base, f"gin/slicing/{slicing}.gin", _loss_file(loss)),
                   s.audio, loss)
  return runs


def table2(s: Setting) -> Experiment:
  """Frequency, time and time-frequency slicing, Perturbed F-Y."""
  runs = _pfy_runs(s, ("freq10", "time10", "time_frequency3x3"))
  return Experiment(
      "table2", "Table 2: frequency, time and time-frequency slicing",
      "slicing", tuple(runs), _own_random_probes(runs), s.budget.probe_seeds)


# A probe at 1000 labels beside the run's own initial weights.
OWN_RANDOM_1000 = ("evaluate.num_examples = (1000,)",
                   "evaluate.baselines = ('pretrained', 'random')")


def _own_random_probes(runs: Sequence[Pretraining]) -> Tuple[Probe, ...]:
  """1000 labels, each run beside its own initial weights: the slicing and
  the number of bands change what an untrained encoder scores, so each
  needs its own random encoder."""
  return tuple(Probe(r.name, OWN_RANDOM_1000) for r in runs)


BANDS = (2, 4, 6, 8, 10, 12, 16, 20)


def figure4(s: Setting) -> Experiment:
  """Downstream metrics and partial ranks against the number of bands."""
  runs = _pfy_runs(s, [f"freq{bands}" for bands in BANDS])
  return Experiment("figure4", "Figure 4: metrics against frequency bands",
                    "bands", tuple(runs),
                    _own_random_probes(runs), s.budget.probe_seeds)


def figure3(s: Setting) -> Experiment:
  """Metrics against labelled examples, with the end-to-end baseline."""
  budget = s.budget
  return _compare_losses(
      "figure3", "Figure 3: metrics against labelled examples", "labels", s,
      s.audio, "freq10", PAPER_LOSSES, budget.figure3_regimes,
      ("pretrained", "random", "supervised"),
      (f"evaluate.supervised_epochs = {budget.figure3_supervised_epochs}",),
      seeds=budget.figure3_seeds)


def table3(s: Setting) -> Experiment:
  """Video: 20 frames, every loss of the paper."""
  return _compare_losses("table3", "Table 3: video, 20 frames", "methods", s,
                         s.video, "frames20", PAPER_LOSSES,
                         (3000,) if s.real else (1000,),
                         ("pretrained", "random"))


# Frames per clip of `frames_video`; 20 is the paper's (and table 3's run).
FRAMES = (5, 10, 20)


def frames_video(s: Setting) -> Experiment:
  """Perturbed F-Y on the video twin with `FRAMES` frames per clip, each
  probed at 1000 labels against its own initial weights (fewer frames give
  the encoder, random or not, less to see). The paper: with fewer than 20
  frames the downstream task does not improve above chance."""
  loss = "perturbed_fenchel_young"
  runs = []
  for frames in FRAMES:
    runs += seeded(s, f"{s.video}/frames{frames}_{loss}",
                   (f"gin/{s.video}_frames20.gin", _loss_file(loss)),
                   s.video, loss, () if frames == 20 else (
                       f"VideoFrontend.num_frames = {frames}",))
  return Experiment("frames_video", "Video: metrics against frames per clip",
                    "frames", tuple(runs), _own_random_probes(runs),
                    s.budget.probe_seeds)


def table4(s: Setting) -> Experiment:
  """Images: 3×3 jigsaw, linear probe, 1000 and 3000 labels (on VOC 2012
  after ImageNet pre-training, with real data)."""
  extra = ()
  if s.real:
    extra = ("evaluate.source = 'voc2012'",) + (
        (f"evaluate.data_dir = '{s.data_dir}'",) if s.data_dir else ())
  return _compare_losses("table4", "Table 4: images, 3×3 jigsaw, linear probe",
                         "methods", s, s.images, "grid3x3", PAPER_LOSSES,
                         (1000, 3000),
                         ("pretrained", "random"), extra)


# One grid for every pretext loss of the audio twins, around their shipped
# rate (1e-5). 1e-4 joined when three losses scored best at 3e-5, the grid's
# top then; `s2l.selection.settled` says when a loss's probes settle its rate
# before the whole grid is run.
LEARNING_RATES = (3e-6, 1e-5, 3e-5, 1e-4)
# The video and image twins pre-train for 3000 steps, not 10000: their grid
# sits one step higher.
SHORT_LEARNING_RATES = (1e-5, 3e-5, 1e-4, 3e-4)

# Each pretext loss's learning rate per embedded twin, as `s2l.selection`
# chose it by its rule from the validation probes of that twin's sweep,
# committed under results/<twin>/lr_sweep/ (tests/test_experiments.py checks
# that this table is what the rule makes of them). Only settled losses are
# listed; another trains at its config's rate. Real data: the configs' own.
CHOSEN_RATES: Dict[str, Dict[str, float]] = {
    "soundfont_notes": {"perturbed_fenchel_young": 3e-5,
                        "fast_soft_ranking": 3e-5, "mse": 1e-4,
                        "fixed_permutations100": 3e-6},
    "physics_video": {"perturbed_fenchel_young": 1e-4,
                      "fast_soft_ranking": 1e-4, "mse": 1e-4,
                      "fixed_permutations100": 3e-5},
    "emoji_images": {"perturbed_fenchel_young": 3e-4,
                     "fast_soft_ranking": 3e-4, "mse": 3e-4,
                     "fixed_permutations100": 3e-5},
}


def _lr_sweep(source: str, base: str, grid: Sequence[float],
              s: Setting) -> Experiment:
  """Every paper loss at every rate of `grid`, the same budget each (the
  twin's config), probed at 1000 labels on the validation split against
  each run's own initial weights: the data that `s2l.selection` chooses each
  loss's learning rate from (never the test split)."""
  runs = tuple(
      Pretraining(f"{source}/{base}_{loss}_lr{selection.lr_label(lr)}",
                  (f"gin/{source}_{base}.gin", _loss_file(loss)),
                  s.train_bindings() + (f"train.learning_rate = {lr!r}",),
                  group=loss, value=lr)
      for loss in PAPER_LOSSES for lr in grid)
  return Experiment("lr_sweep", "Learning rate per pretext loss", "sweep",
                    runs, tuple(Probe(r.name, OWN_RANDOM_1000 + (
                        "evaluate.score_split = 'validation'",))
                                for r in runs), s.budget.probe_seeds)


def sweep_grid(source: str) -> Tuple[float, ...]:
  """The learning rates swept on twin `source`."""
  audio = sources.get(source).modality == "audio"
  return LEARNING_RATES if audio else SHORT_LEARNING_RATES


def lr_sweep(s: Setting) -> Experiment:
  """The audio twin's sweep (`LEARNING_RATES`)."""
  return _lr_sweep(s.audio, "freq10", sweep_grid(s.audio), s)


def lr_sweep_video(s: Setting) -> Experiment:
  """The video twin's sweep (`SHORT_LEARNING_RATES`)."""
  return _lr_sweep(s.video, "frames20", sweep_grid(s.video), s)


def lr_sweep_images(s: Setting) -> Experiment:
  """The image twin's sweep (`SHORT_LEARNING_RATES`)."""
  return _lr_sweep(s.images, "grid3x3", sweep_grid(s.images), s)


@dataclasses.dataclass(frozen=True)
class Ablation:
  """One change from the audio twin's setting, for `ablations`.

  Attributes:
    name: short name, also the probe's file name.
    change: what differs, in words.
    train: gin bindings of the pre-training.
    probe: gin bindings of the probe.
    run: the ablation whose pre-training it probes (probe-only changes); its
      own if empty.
  """
  name: str
  change: str
  train: Tuple[str, ...] = ()
  probe: Tuple[str, ...] = ()
  run: str = ""


_FORMER = ("train.learning_rate = 1e-4", "train.train_steps = 2000")
ABLATIONS = (
    Ablation("default", "the twin as shipped before: Adam 1e-3, 2000 steps, "
             "width 0.25, depth 3, no dropout, normalised bands",
             train=("train.learning_rate = 1e-3",
                    "train.train_steps = 2000")),
    Ablation("lr1e-4", "learning rate 1e-4", train=_FORMER),
    Ablation("lr1e-5", "learning rate 1e-5",
             train=("train.learning_rate = 1e-5", "train.train_steps = 2000")),
    Ablation("lr1e-6", "learning rate 1e-6 (the paper's)",
             train=("train.learning_rate = 1e-6", "train.train_steps = 2000")),
    Ablation("lr1e-5_steps10000", "learning rate 1e-5 for 10000 steps (the "
             "new setting)", train=("train.learning_rate = 1e-5",
                                    "train.train_steps = 10000")),
    # One suspect at a time from Adam 1e-4, 2000 steps.
    Ablation("unnormalised_lr1e-4", "bands not standardised, at 1e-4",
             train=_FORMER + ("Slicing.normalize = False",)),
    Ablation("dropout_lr1e-4", "dropout 0.5 after fc6 and the embedding, "
             "at 1e-4", train=_FORMER + ("train.dropout = 0.5",)),
    Ablation("depth5_lr1e-4", "AlexNet's 5 convolutions (width 0.25), at "
             "1e-4", train=_FORMER + ("train.depth = 5",)),
    Ablation("steps500_lr1e-4", "500 steps at 1e-4",
             train=("train.learning_rate = 1e-4", "train.train_steps = 500")),
    Ablation("steps6000_lr1e-4", "6000 steps at 1e-4",
             train=("train.learning_rate = 1e-4", "train.train_steps = 6000")),
    # Other pre-training seeds of the new setting (Adam 1e-5, 10000 steps):
    # other initial weights (the random column) and another run.
    Ablation("seed1", "seed 1 (weights, data order, permutations) of the "
             "new setting", train=("train.learning_rate = 1e-5",
                                   "train.train_steps = 10000",
                                   "train.seed = 1")),
    Ablation("seed2", "seed 2 of the new setting",
             train=("train.learning_rate = 1e-5", "train.train_steps = 10000",
                    "train.seed = 2")),
    # The probe protocol, on the former default's collapsed run.
    Ablation("probe_raw", "probe on raw embeddings (no standardising or "
             "clipping)", probe=("evaluate.standardize = False",),
             run="default"),
    Ablation("probe_first", "labelled examples: the first 1000 in file "
             "order, the same for every seed",
             probe=("evaluate.labelled_subsets = 'first'",), run="default"),
)


def ablations(s: Setting) -> Experiment:
  """The collapse ablations of the audio twin: one suspect of its setting or
  of the probe protocol changed at a time, each probed at 1000 labels
  against the run's own initial weights."""
  base = f"gin/{s.audio}_freq10.gin"
  runs = tuple(Pretraining(f"{s.audio}/ablations/{a.name}", (base,),
                           s.train_bindings() + a.train)
               for a in ABLATIONS if not a.run)
  probes = tuple(Probe(f"{s.audio}/ablations/{a.run or a.name}",
                       OWN_RANDOM_1000 + a.probe, name=a.name,
                       description=a.change)
                 for a in ABLATIONS)
  return Experiment("ablations", "Ablations of the collapse: pre-trained / "
                    "own initial weights, 1000 labels", "ablations", runs,
                    probes, s.budget.probe_seeds)


# Fixed Permutation's set sizes and rates of `permutation_set_size`, in the
# order they run: the size the paper uses (100) at the rate where the twin's
# Fixed Permutation learns its pretext furthest of those probed (3e-5, where it
# transfers worst), a set ten times larger and ten times smaller at that rate,
# then the larger set at the loss's chosen rate (3e-6).
PERMUTATION_SETS = ((1000, 3e-5), (10, 3e-5), (100, 3e-5), (1000, 3e-6))


def _loss_variants(s: Setting, experiment: str, title: str,
                   variants) -> Experiment:
  """Losses on the audio twin changed one way per variant, seed 0 (the
  initial weights of the sweep's runs), the config's steps, each probed at
  1000 labels on the validation split against the run's own initial
  weights.

  Args:
    experiment: the plan's name, also the runs' folder under the source.
    title: the report's title (before ": pre-trained / ...").
    variants: (name, loss, learning rate, extra gin bindings, description)
      each; `loss` a registered loss name (its gin/losses/<loss>.gin).
  """
  base = f"gin/{s.audio}_freq10.gin"
  runs, probes = [], []
  for name, loss, rate, bindings, description in variants:
    runs.append(Pretraining(
        f"{s.audio}/{experiment}/{name}", (base, _loss_file(loss)),
        s.train_bindings() + (f"train.learning_rate = {rate!r}",) +
        tuple(bindings)))
    probes.append(Probe(runs[-1].name, OWN_RANDOM_1000 + (
        "evaluate.score_split = 'validation'",), name=name,
                        description=description))
  return Experiment(experiment, f"{title}: pre-trained / own initial "
                    "weights, 1000 labels, validation split", "ablations",
                    tuple(runs), tuple(probes), s.budget.probe_seeds)


def permutation_set_size(s: Setting) -> Experiment:
  """Fixed Permutation on the audio twin with sets of `PERMUTATION_SETS`
  permutations, one suspect of its deficit: a set of 100 is named by the
  contents of a few input slots (results/permutation_sets.md), so its
  pretext may be solved by features that tell a few bands apart. Seed 0,
  the config's steps, each probed at 1000 labels on the validation split
  against the run's own initial weights (the set size is not chosen here:
  the paper's 100 stays the loss's setting)."""
  return _loss_variants(
      s, "permutation_set_size", "Fixed Permutation's set size", [
          (f"L{size}_lr{selection.lr_label(rate)}", "fixed_permutations100",
           rate,
           (f"FixedPermutationLoss.num_permutations = {size}",),
           f"{size} maximal-Hamming permutations, Adam "
           f"{selection.lr_label(rate)}")
          for size, rate in PERMUTATION_SETS])


# The rates of `random_labels`: Fixed Permutation's chosen rate, and the rate
# where its true labels cost the note most of the sweep's.
RANDOM_LABEL_RATES = (3e-6, 3e-5)


def random_labels(s: Setting) -> Experiment:
  """Fixed Permutation on the audio twin with its labels drawn at random
  (`FixedPermutationLoss.random_labels`), a control of its deficit: the
  loss then says nothing about the input, so whatever the encoder loses is
  the loss's doing, not its pretext's. The set of 100 at each rate of
  `RANDOM_LABEL_RATES`, seed 0 (the initial weights of the sweep's runs of
  the same loss), the config's steps, each probed at 1000 labels on the
  validation split against the run's own initial weights."""
  return _loss_variants(
      s, "random_labels", "Fixed Permutation with random labels", [
          (f"L100_lr{selection.lr_label(rate)}", "fixed_permutations100",
           rate,
           ("FixedPermutationLoss.random_labels = True",),
           f"100 permutations, labels drawn at random, Adam "
           f"{selection.lr_label(rate)}")
          for rate in RANDOM_LABEL_RATES])


# The variants of `score_targets`: (name, loss, bindings, what changes),
# each run at its loss's chosen rate on the SoundFont twin (`CHOSEN_RATES`),
# which its name and description end with.
SCORE_TARGETS = (
    ("mse_centred", "mse", ("RankMSELoss.centered = True",),
     "MSE regressing the centred ranks y - (n + 1)/2"),
    ("mse_centred_scale0.1", "mse",
     ("RankMSELoss.centered = True", "RankMSELoss.target_scale = 0.1"),
     "MSE regressing the centred ranks scaled by 0.1"),
    ("fsr_strength0.1", "fast_soft_ranking",
     ("SoftRankLoss.regularization_strength = 0.1",),
     "Fast Soft Ranking at regularisation strength 0.1 (Perturbed F-Y's "
     "epsilon) instead of 1"),
    # Added once the three above were probed: the scale alone for MSE, and
    # the strength's next value down for Fast Soft Ranking.
    ("mse_scale0.1", "mse", ("RankMSELoss.target_scale = 0.1",),
     "MSE regressing the ranks scaled by 0.1, not centred"),
    ("fsr_strength0.01", "fast_soft_ranking",
     ("SoftRankLoss.regularization_strength = 0.01",),
     "Fast Soft Ranking at regularisation strength 0.01"),
)


def score_targets(s: Setting) -> Experiment:
  """MSE and Fast Soft Ranking with the offset and scale of what they ask
  of the scores changed (`SCORE_TARGETS`), one suspect of their embedding
  layer's loss of the note: MSE asks every score for the ranks' mean
  (n + 1)/2 and both ask neighbouring scores to differ by about 1, where
  Perturbed F-Y's noise of 0.1 asks for a tenth of that. Seed 0 (the
  initial weights of the sweep's runs), the config's steps, each loss at
  its chosen rate, probed at 1000 labels on the validation split against
  the run's own initial weights: compare with the sweep's runs of the same
  loss and rate."""
  rates = CHOSEN_RATES["soundfont_notes"]
  return _loss_variants(
      s, "score_targets", "What MSE and Fast Soft Ranking ask of the scores",
      [(f"{name}_lr{selection.lr_label(rates[loss])}", loss, rates[loss],
        bindings, f"{description}, Adam {selection.lr_label(rates[loss])}")
       for name, loss, bindings, description in SCORE_TARGETS])


# The encoder steps of `gain_vs_steps`: every run exports its encoder at
# each but the last (`train.export_steps`), then trains to the last. A longer
# curve resumes the runs: the former last step is then exported on resume.
CURVE_STEPS = (1000, 2000, 5000, 10000, 20000)


def gain_vs_steps(s: Setting) -> Experiment:
  """The probe gain against pre-training steps: Perturbed F-Y on the audio
  twin at its chosen rate, trained for `CURVE_STEPS[-1]` steps per seed,
  its encoder at each step of `CURVE_STEPS` probed at 1000 labels against
  the run's own initial weights, on the validation split (the curve may
  choose a twin's steps)."""
  loss = "perturbed_fenchel_young"
  *earlier, last = CURVE_STEPS
  # Named without its length: a longer CURVE_STEPS resumes the same runs.
  runs = seeded(s, f"{s.audio}/freq10_{loss}_curve",
                (f"gin/{s.audio}_freq10.gin", _loss_file(loss)), s.audio,
                loss, (f"train.train_steps = {last}",
                       f"train.export_steps = {_tuple(earlier)}"))
  probes = tuple(
      Probe(run.name, OWN_RANDOM_1000 + (
          "evaluate.score_split = 'validation'",) + (
              (f"evaluate.encoder_step = {step}",) if step != last else ()),
            name=f"{os.path.basename(run.name)}_at{step}")
      for run in runs for step in CURVE_STEPS)
  return Experiment("gain_vs_steps", "Gain over the random encoder against "
                    "pre-training steps", "steps", tuple(runs), probes,
                    s.budget.probe_seeds)


# The training-set sizes of `gain_vs_data`, besides the whole split.
CURVE_EXAMPLES = (750, 1500, 3000)


def gain_vs_data(s: Setting) -> Experiment:
  """The probe gain against the amount of pre-training data: Perturbed F-Y
  on the audio twin at its chosen rate and its config's steps, pre-trained
  on the first `CURVE_EXAMPLES` notes of the training split and on all of
  it (table 1's runs), each probed at 1000 labels, drawn from the whole
  split, against the run's own initial weights on the validation split."""
  loss = "perturbed_fenchel_young"
  files = (f"gin/{s.audio}_freq10.gin", _loss_file(loss))
  runs = []
  for examples in CURVE_EXAMPLES:
    runs += seeded(s, f"{s.audio}/freq10_{loss}_notes{examples}", files,
                   s.audio, loss, (f"train.train_examples = {examples}",))
  runs += seeded(s, f"{s.audio}/freq10_{loss}", files, s.audio, loss)
  return Experiment("gain_vs_data", "Gain over the random encoder against "
                    "pre-training examples", "data", tuple(runs),
                    tuple(Probe(r.name, OWN_RANDOM_1000 + (
                        "evaluate.score_split = 'validation'",))
                          for r in runs), s.budget.probe_seeds)


# The CFN widths of `gain_vs_width` (channel multipliers; 1.0 is AlexNet's,
# the twins' configs use 0.25), in the order they run: each doubling costs
# about four times the convolutions' compute.
WIDTHS = (0.25, 0.5, 1.0)


def gain_vs_width(s: Setting) -> Experiment:
  """The probe gain against the network's width: Perturbed F-Y on the audio
  twin at its chosen rate (chosen at width 0.25) and its config's steps,
  with `WIDTHS` channel multipliers, each probed at 1000 labels against the
  run's own initial weights (as wide) on the validation split. Width 0.25 is
  table 1's run."""
  loss = "perturbed_fenchel_young"
  files = (f"gin/{s.audio}_freq10.gin", _loss_file(loss))
  runs = []
  for width in WIDTHS:
    runs += seeded(s, f"{s.audio}/freq10_{loss}" + (
        "" if width == 0.25 else f"_width{width:g}"), files, s.audio, loss,
                   () if width == 0.25 else (f"train.width = {width!r}",))
  return Experiment("gain_vs_width", "Gain over the random encoder against "
                    "the network's width", "width", tuple(runs),
                    tuple(Probe(r.name, OWN_RANDOM_1000 + (
                        "evaluate.score_split = 'validation'",))
                          for r in runs), s.budget.probe_seeds)


TWINS = ("synthetic_notes_freq10", "synthetic_notes_time10",
         "synthetic_notes_time_frequency3x3", "soundfont_notes_freq10",
         "soundfont_notes_time10", "soundfont_notes_time_frequency3x3",
         "physics_video_frames20", "emoji_images_grid3x3")


def pretrain_twins(s: Setting) -> Experiment:
  """Every embedded twin's default pre-training, no probe."""
  del s
  return Experiment("pretrain_twins", "Embedded twins", "none", tuple(
      Pretraining(config, (f"gin/{config}.gin",)) for config in TWINS))


PLANS: Dict[str, Callable[[Setting], Experiment]] = {
    f.__name__: f for f in (table1, table2, table3, table4, table5, table6,
                            figure3, figure4, lr_sweep, lr_sweep_video,
                            lr_sweep_images, gain_vs_steps, gain_vs_data,
                            gain_vs_width, frames_video, probed_layer,
                            ablations, permutation_set_size, random_labels,
                            score_targets,
                            pretrain_twins)}


def output_path(experiment: Experiment, probe: Probe, results_dir: str) -> str:
  """Where a probe's JSON goes: RESULTS/<experiment>/<name>.json (the run's
  base name unless the probe has a name)."""
  return os.path.join(results_dir, experiment.name,
                      (probe.name or os.path.basename(probe.run)) + ".json")


def layout_record(experiment: Experiment, setting: Setting,
                  budget: str) -> Dict:
  """What RESULTS/<experiment>/experiment.json holds for `s2l.report`."""
  record = {"name": experiment.name, "title": experiment.title,
            "layout": experiment.layout,
            "setting": {"data": setting.data, "notes": setting.notes,
                        "budget": budget},
            "probes": [os.path.basename(output_path(experiment, p, ""))
                       for p in experiment.probes]}
  descriptions = {os.path.basename(output_path(experiment, p, "")):
                  p.description for p in experiment.probes if p.description}
  if descriptions:
    record["descriptions"] = descriptions
  return record


def write_layout(experiment: Experiment, setting: Setting, results_dir: str,
                 budget: str) -> str:
  """Writes RESULTS/<experiment>/experiment.json, what `s2l.report` lays out.

  Args:
    experiment: the plan.
    setting: its data and budget.
    results_dir: RESULTS.
    budget: the --budget it runs with (a name or a gin file).

  Returns:
    The path written, atomically (`s2l.atomic`).
  """
  folder = os.path.join(results_dir, experiment.name)
  os.makedirs(folder, exist_ok=True)
  return atomic.write_json(os.path.join(folder, "experiment.json"),
                           layout_record(experiment, setting, budget),
                           indent=2)


def _train_line(run: Pretraining, runs_dir: str, python: str,
                train_args: Sequence[str]) -> List[str]:
  return [python, "-m", "s2l.train",
          *(f"--gin_file={f}" for f in run.gin_files),
          f"--model_dir={os.path.join(runs_dir, run.name)}",
          *(f"--gin_param={b}" for b in run.bindings), *train_args]


def _probe_line(experiment: Experiment, probe: Probe, runs_dir: str,
                results_dir: str, python: str) -> List[str]:
  return [python, "-m", "s2l.evaluate",
          f"--model_dir={os.path.join(runs_dir, probe.run)}",
          f"--gin_param=evaluate.seeds = {_tuple(experiment.seeds)}",
          *(f"--gin_param={b}" for b in probe.bindings),
          "--gin_param=evaluate.output = "
          f"'{output_path(experiment, probe, results_dir)}'"]


def commands(experiment: Experiment, runs_dir: str, results_dir: str,
             python: str = "python", train_args: Sequence[str] = ()
             ) -> List[List[str]]:
  """The command lines of an experiment, in order: every pre-training, then
  every probe, then the report (if it probes anything).

  Args:
    train_args: extra `s2l.train` flags, after the plan's (they win).
  """
  lines = [_train_line(run, runs_dir, python, train_args)
           for run in experiment.pretrainings]
  lines += [_probe_line(experiment, probe, runs_dir, results_dir, python)
            for probe in experiment.probes]
  if experiment.probes:
    lines.append([python, "-m", "s2l.report", results_dir])
  return lines


@dataclasses.dataclass(frozen=True)
class Step:
  """One pre-training with its probes, as `s2l.experiments` runs them.

  Attributes:
    run: the pre-training.
    train: its `s2l.train` command line.
    probes: (command line, output JSON path) of each probe of it, in the
      plan's order.
  """
  run: Pretraining
  train: List[str]
  probes: Tuple[Tuple[List[str], str], ...]


def steps(experiment: Experiment, runs_dir: str, results_dir: str,
          python: str = "python", train_args: Sequence[str] = ()
          ) -> List[Step]:
  """The lines of `commands` (but the report's) grouped by pre-training, in
  the plan's order of pre-trainings: each run can be probed, and its
  results kept, before the next one trains."""
  return [Step(run, _train_line(run, runs_dir, python, train_args),
               tuple((_probe_line(experiment, probe, runs_dir, results_dir,
                                  python),
                      output_path(experiment, probe, results_dir))
                     for probe in experiment.probes if probe.run == run.name))
          for run in experiment.pretrainings]
