#!/usr/bin/env bash
# Paper figure 4: the audio tasks against the number of frequency bands of the
# pretext task (2 to 20 bands, perturbed Fenchel-Young loss), probed with
# 1000 labelled examples, beside the held-out partial ranks of each pretext.
# Flags (--data, --budget, --notes, --dry_run, ...): see experiments/common.sh.
#   bash experiments/figure4.sh              # embedded notes -> results/figure4.{md,png}
source "$(dirname "$0")/common.sh"
run_experiment figure4 "$@"
