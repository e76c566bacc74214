#!/usr/bin/env bash
# Pre-trains a CFN on every embedded twin of the paper's settings (the
# configs of gin/ whose run times and held-out partial ranks are in their
# headers): about 6 minutes on 2 CPU cores, plus building the data sets.
#
#   bash experiments/pretrain_twins.sh            # runs into runs/<config>
#   RUNS=/tmp/runs bash experiments/pretrain_twins.sh
#   DRY_RUN=1 bash experiments/pretrain_twins.sh  # prints the commands only
#
# Extra arguments go to every s2l.train call, for example
#   bash experiments/pretrain_twins.sh --gin_param="train.train_steps = 200"
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-runs}"
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"

CONFIGS=(
  synthetic_notes_freq10
  synthetic_notes_time10
  synthetic_notes_time_frequency3x3
  synthetic_video_frames20
  synthetic_images_grid3x3
)

for config in "${CONFIGS[@]}"; do
  command=("$PYTHON" -m s2l.train "--gin_file=gin/${config}.gin"
           "--model_dir=${RUNS}/${config}" "$@")
  if [[ -n "${DRY_RUN:-}" ]]; then
    printf '%q ' "${command[@]}"
    echo
  else
    "${command[@]}"
  fi
done
