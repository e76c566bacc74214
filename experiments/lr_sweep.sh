#!/usr/bin/env bash
# Each paper loss at every learning rate of s2l.plans.LEARNING_RATES, the same
# steps each, probed at 1000 labels on the validation split against each run's
# own initial weights; the report chooses each loss's rate by s2l.selection's
# rule (never on test). A loss's rate is settled once the grid rates next to
# its best one are probed and score lower (s2l.selection.settled).
# Flags (--notes, --budget, --dry_run, ...): see experiments/common.sh.
#   bash experiments/lr_sweep.sh --notes=soundfont --results=results/soundfont_notes
source "$(dirname "$0")/common.sh"
run_experiment lr_sweep "$@"
