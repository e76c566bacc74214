#!/usr/bin/env bash
# Paper table 5 (appendix A.2): as table 1 with 500 labelled examples
# (Random Embedding, Fixed Permutation, Fast Soft Ranking, Perturbed F-Y,
# MSE, and the listwise ListMLE and ApproxNDCG), with held-out partial ranks.
# Flags (--data, --budget, --notes, --dry_run, ...): see experiments/common.sh.
#   bash experiments/table5.sh              # embedded notes -> results/table5.md
source "$(dirname "$0")/common.sh"
run_experiment table5 "$@"
