#!/usr/bin/env bash
# The probe gain against the amount of pre-training data: Perturbed F-Y on the
# audio twin at its chosen rate, pre-trained on the first
# s2l.plans.CURVE_EXAMPLES notes of the training split and on all of it, each
# probed at 1000 labels on the validation split against its initial weights.
#   bash experiments/gain_vs_data.sh --notes=soundfont --results=results/soundfont_notes
source "$(dirname "$0")/common.sh"
run_experiment gain_vs_data "$@"
