#!/usr/bin/env bash
# Pre-trains a CFN on every embedded twin of the paper's settings (the
# configs of gin/ whose run times and held-out partial ranks are in their
# headers): about 6 minutes on 2 CPU cores, plus building the data sets.
#
#   bash experiments/pretrain_twins.sh            # runs into runs/<config>
#   bash experiments/pretrain_twins.sh --runs=/tmp/runs
#   bash experiments/pretrain_twins.sh --dry_run  # prints the commands only
#
# Extra arguments go to every s2l.train call, for example
#   bash experiments/pretrain_twins.sh --gin_param="train.train_steps = 200"
source "$(dirname "$0")/common.sh"
run_experiment pretrain_twins "$@"
