#!/usr/bin/env bash
# Paper table 2: slicing biases on the audio tasks. The CFN is pre-trained
# with the perturbed Fenchel-Young loss on 10 frequency bands, 10 time frames
# or 3x3 time-frequency tiles, and probed with 1000 labelled examples.
# Settings (DATA, BUDGET, RUNS, RESULTS, DRY_RUN): see experiments/common.sh.
#   bash experiments/table2.sh               # embedded notes -> results/table2.md
source "$(dirname "$0")/common.sh"
LOSS=gin/losses/perturbed_fenchel_young.gin
pretrain "${AUDIO}/freq10_perturbed_fenchel_young" "$(audio_base)" "$LOSS"
for slicing in time10 time_frequency3x3; do
  pretrain "${AUDIO}/${slicing}_perturbed_fenchel_young" "$(audio_base)" \
    "gin/slicing/${slicing}.gin" "$LOSS"
done
for slicing in freq10 time10 time_frequency3x3; do
  probe "${AUDIO}/${slicing}_perturbed_fenchel_young" table2 \
    "evaluate.num_examples = (1000,)" "evaluate.baselines = ('pretrained',)"
done
report
