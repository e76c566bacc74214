#!/usr/bin/env bash
# The probe gain against pre-training steps: Perturbed F-Y on the audio twin
# at its chosen rate for s2l.plans.CURVE_STEPS[-1] steps per pre-training
# seed, its encoder exported at the earlier CURVE_STEPS and each probed at
# 1000 labels on the validation split against the run's initial weights.
#   bash experiments/gain_vs_steps.sh --notes=soundfont --results=results/soundfont_notes
source "$(dirname "$0")/common.sh"
run_experiment gain_vs_steps "$@"
