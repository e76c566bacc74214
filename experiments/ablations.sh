#!/usr/bin/env bash
# The collapse ablations of the audio twin: one suspect of its setting
# (learning rate, steps, dropout, depth, band normalisation, seed) or of the
# probe protocol (standardising, which labelled examples) changed at a time,
# each probed at 1000 labels against the run's own initial weights
# (s2l/plans.py: ABLATIONS).
# Flags (--notes, --budget, --dry_run, ...): see experiments/common.sh.
#   bash experiments/ablations.sh --notes=soundfont --results=results/soundfont_notes
source "$(dirname "$0")/common.sh"
run_experiment ablations "$@"
