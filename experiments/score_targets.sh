#!/usr/bin/env bash
# MSE and Fast Soft Ranking with the offset and scale of what they ask of the
# scores changed (s2l.plans.SCORE_TARGETS) on the audio twin, seed 0, each at
# its chosen rate, probed at 1000 labels on the validation split against its
# own initial weights.
#   bash experiments/score_targets.sh --notes=soundfont --results=results/soundfont_notes
source "$(dirname "$0")/common.sh"
run_experiment score_targets "$@"
