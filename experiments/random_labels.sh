#!/usr/bin/env bash
# Fixed Permutation with its labels drawn at random, a control of its deficit
# on the audio twin: the set of 100 at s2l.plans.RANDOM_LABEL_RATES, seed 0,
# each probed at 1000 labels on the validation split against its own initial
# weights.
#   bash experiments/random_labels.sh --notes=soundfont --results=results/soundfont_notes
source "$(dirname "$0")/common.sh"
run_experiment random_labels "$@"
