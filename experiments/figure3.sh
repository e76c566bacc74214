#!/usr/bin/env bash
# Paper figure 3: the audio tasks against the number of labelled examples,
# for each pretext loss (10 frequency bands), the random embedding, and the
# same network trained end to end without pre-training.
# Flags (--data, --budget, --notes, --dry_run, ...): see experiments/common.sh.
# The small budget probes 200, 1000 and 5000 labels with 2 seeds and trains
# the end-to-end baseline for 20 epochs; the full one 100 to 5000 labels.
#   bash experiments/figure3.sh              # embedded notes -> results/figure3.{md,png}
source "$(dirname "$0")/common.sh"
run_experiment figure3 "$@"
