#!/usr/bin/env bash
# Fixed Permutation's set size, one suspect of its deficit on the audio twin:
# sets of s2l.plans.PERMUTATION_SETS permutations, seed 0, each probed at 1000
# labels on the validation split against its own initial weights.
#   bash experiments/permutation_set_size.sh --notes=soundfont --results=results/soundfont_notes
source "$(dirname "$0")/common.sh"
run_experiment permutation_set_size "$@"
