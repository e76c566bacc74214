#!/usr/bin/env bash
# Paper table 3: video. A CFN over 20 frames sampled uniformly along each clip
# (20! ≈ 2.4e18 orders) is pre-trained with each pretext loss (the fixed set:
# 100 permutations of 20 frames) and probed with the 3-layer MLP on the action
# labels, beside the held-out partial ranks of the pretext task.
# Embedded: synthetic video, probed on its 2000 training clips; real:
# something-something v2 (from its manual_dir build), on 3000 clips as in the
# paper, scored on the validation split.
# Flags (--data, --budget, --notes, --dry_run, ...): see experiments/common.sh.
#   bash experiments/table3.sh               # embedded video -> results/table3.md
source "$(dirname "$0")/common.sh"
run_experiment table3 "$@"
