#!/usr/bin/env bash
# The probe gain against the network's width: Perturbed F-Y on the audio twin
# at its chosen rate with s2l.plans.WIDTHS channel multipliers (1.0 is
# AlexNet's), each probed at 1000 labels on the validation split against its
# own initial weights, as wide.
#   bash experiments/gain_vs_width.sh --notes=soundfont --results=results/soundfont_notes --pretrain_seed=0
source "$(dirname "$0")/common.sh"
run_experiment gain_vs_width "$@"
