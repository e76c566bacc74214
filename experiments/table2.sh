#!/usr/bin/env bash
# Paper table 2: slicing biases on the audio tasks. The CFN is pre-trained
# with the perturbed Fenchel-Young loss on 10 frequency bands, 10 time frames
# or 3x3 time-frequency tiles, and probed with 1000 labelled examples.
# Flags (--data, --budget, --notes, --dry_run, ...): see experiments/common.sh.
#   bash experiments/table2.sh               # embedded notes -> results/table2.md
source "$(dirname "$0")/common.sh"
run_experiment table2 "$@"
