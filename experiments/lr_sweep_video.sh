#!/usr/bin/env bash
# lr_sweep.sh on the video twin: each paper loss at every rate of
# s2l.plans.SHORT_LEARNING_RATES (its config's 3000 steps each), probed at 1000
# labels on the validation split against each run's own initial weights;
# s2l.selection's rule chooses and settles each loss's rate, never on test.
#   bash experiments/lr_sweep_video.sh --results=results/physics_video --until_settled
source "$(dirname "$0")/common.sh"
run_experiment lr_sweep_video "$@"
