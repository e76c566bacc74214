"""Registers the swappable parts of s2l with gin, and parses configs.

Library modules stay free of gin (gin only at the edges); entry
points and tests import this module before parsing gin files, after which a
config can say, for example::

    train.loss = @PerturbedFenchelYoungLoss()
    PerturbedFenchelYoungLoss.epsilon = 0.1
"""

import os
from typing import Sequence

import gin
import tensorflow as tf

from s2l import losses
from s2l import permutations
from s2l import plans
from s2l.datasets import audio_folder
from s2l.datasets import image_folder
from s2l.datasets import video_folder
from s2l.data import frontends
from s2l.data import patches
from s2l.data import sources

# Every loss `s2l.losses.register` declared (the registry is the one list).
LOSSES = tuple(losses.REGISTRY.values())

for _loss in LOSSES:
  gin.external_configurable(_loss, module="s2l.losses")

gin.external_configurable(plans.Budget, module="s2l.plans")

gin.external_configurable(permutations.FixedPermutationSet.maximal_hamming,
                          name="maximal_hamming_permutation_set",
                          module="s2l.permutations")

# Sources are objects gin builds, a registered one by name as a folder by its
# arguments: `train.source = @registered_source()` with
# `registered_source.name = 'nsynth'`, or `train.source = @AudioFolder()`
# (or `@ImageFolder()`, `@VideoFolder()`),
# (the string form `train.source = 'nsynth'` is the same as the first).
gin.external_configurable(sources.get, name="registered_source",
                          module="s2l.data")

for _part in (patches.Slicing, frontends.AudioFrontend, frontends.ImageFrontend,
              frontends.VideoFrontend, audio_folder.AudioFolder,
              image_folder.ImageFolder, video_folder.VideoFolder):
  gin.external_configurable(_part, module="s2l.data")


# The shipped configs: gin/<setting>.gin, gin/losses/, gin/slicing/,
# gin/sources/.
GIN_DIR = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "gin")


def parse_gin(gin_files: Sequence[str], gin_params: Sequence[str]) -> None:
  """Parses gin files and bindings, failing on any unknown name.

  `include` paths are relative to the repository root ("gin/sources/nsynth.gin"),
  which is also a search path, so configs run from any working directory.
  """
  for path in gin_files:
    if not tf.io.gfile.exists(path):
      raise FileNotFoundError(f"gin file {path!r} does not exist; the configs"
                              f" are in {GIN_DIR}.")
  gin.add_config_file_search_path(os.path.dirname(GIN_DIR))
  gin.parse_config_files_and_bindings(gin_files, gin_params)


def budget_file(budget: str) -> str:
  """The gin file of a budget: a name of gin/budgets/ or a path."""
  if os.path.exists(budget):
    return budget
  folder = os.path.join(GIN_DIR, "budgets")
  path = os.path.join(folder, f"{budget}.gin")
  if not os.path.exists(path):
    known = sorted(os.path.splitext(f)[0] for f in os.listdir(folder))
    raise ValueError(f"budget {budget!r} is neither a gin file nor one of "
                     f"{known} (gin/budgets/).")
  return path


def load_budget(budget: str) -> plans.Budget:
  """The `plans.Budget` that a budget's gin file binds (on a clean gin)."""
  gin.clear_config()
  parse_gin([budget_file(budget)], [])
  return gin.get_configurable(plans.Budget)()
