#!/usr/bin/env bash
# Paper table 4: images. A CFN on 128x128 images cut 3x3 is pre-trained with
# each pretext loss (the fixed set: 100 permutations of 9 tiles) and probed
# with a linear head on multi-label classification with 1000 and 3000
# labelled images, reporting two mean AUCs (macro over classes, and micro
# over all image-class pairs: s2l's reading of the paper's "upper" and
# "lower" figures) and the held-out partial ranks.
# Embedded: synthetic images for both stages; real: pre-trained on ImageNet,
# probed on VOC 2012 (train split; scored on its validation split, whose
# labels are public, unlike its test split's).
# Flags (--data, --budget, --notes, --dry_run, ...): see experiments/common.sh.
#   bash experiments/table4.sh               # embedded images -> results/table4.md
source "$(dirname "$0")/common.sh"
run_experiment table4 "$@"
