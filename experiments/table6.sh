#!/usr/bin/env bash
# Paper table 6 (appendix A.2): as table 1 with 5000 labelled examples
# (Random Embedding, Fixed Permutation, Fast Soft Ranking, Perturbed F-Y,
# MSE, and the listwise ListMLE and ApproxNDCG), with held-out partial ranks.
# Flags (--data, --budget, --notes, --dry_run, ...): see experiments/common.sh.
#   bash experiments/table6.sh              # embedded notes -> results/table6.md
source "$(dirname "$0")/common.sh"
run_experiment table6 "$@"
