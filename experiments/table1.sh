#!/usr/bin/env bash
# Paper table 1: the audio tasks with 1000 labelled examples, one column per pretext loss
# (Random Embedding, Fixed Permutation, Fast Soft Ranking, Perturbed F-Y,
# MSE, and the listwise ListMLE and ApproxNDCG), with held-out partial ranks.
# Flags (--data, --budget, --notes, --dry_run, ...): see experiments/common.sh.
#   bash experiments/table1.sh              # embedded notes -> results/table1.md
source "$(dirname "$0")/common.sh"
run_experiment table1 "$@"
