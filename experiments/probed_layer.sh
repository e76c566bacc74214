#!/usr/bin/env bash
# Table 1's runs (every pretext loss at its chosen rate, each pre-training
# seed) probed at every patch's fc6 features instead of the embedding, at
# 1000 labels beside the random encoder cut at the same layer.
#   bash experiments/probed_layer.sh --notes=soundfont --results=results/soundfont_notes
source "$(dirname "$0")/common.sh"
run_experiment probed_layer "$@"
