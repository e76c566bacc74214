#!/usr/bin/env bash
# Frames per clip on the video twin: Perturbed F-Y with 5, 10 and 20 frames
# (s2l.plans.FRAMES; the 20-frame runs are table 3's), each probed at 1000
# labels against its own initial weights. The paper: with fewer than 20
# frames the downstream task does not improve above chance.
#   bash experiments/frames_video.sh --results=results/physics_video
source "$(dirname "$0")/common.sh"
run_experiment frames_video "$@"
