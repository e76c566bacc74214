"""Registers the swappable parts of s2l with gin.

Library modules stay free of gin (STYLE.md: gin only at the edges); entry
points and tests import this module before parsing gin files, after which a
config can say, for example::

    train.loss = @PerturbedFenchelYoungLoss()
    PerturbedFenchelYoungLoss.epsilon = 0.1
"""

import gin

from s2l import losses
from s2l import permutations
from s2l.data import audio_folder
from s2l.data import frontends
from s2l.data import patches

LOSSES = (
    losses.PerturbedFenchelYoungLoss,
    losses.SoftRankLoss,
    losses.RankMSELoss,
    losses.FixedPermutationLoss,
    losses.ListMLELoss,
    losses.ApproxNDCGLoss,
)

for _loss in LOSSES:
  gin.external_configurable(_loss, module="s2l.losses")

gin.external_configurable(permutations.FixedPermutationSet.maximal_hamming,
                          name="maximal_hamming_permutation_set",
                          module="s2l.permutations")

for _part in (patches.Slicing, frontends.AudioFrontend, frontends.ImageFrontend,
              frontends.VideoFrontend, audio_folder.AudioFolder):
  gin.external_configurable(_part, module="s2l.data")
