#!/usr/bin/env bash
# Paper figure 4: the audio tasks against the number of frequency bands of the
# pretext task (2 to 20 bands, perturbed Fenchel-Young loss), probed with
# 1000 labelled examples, beside the held-out partial ranks of each pretext.
# Settings (DATA, BUDGET, RUNS, RESULTS, DRY_RUN): see experiments/common.sh.
#   bash experiments/figure4.sh              # embedded notes -> results/figure4.{md,png}
source "$(dirname "$0")/common.sh"
LOSS=gin/losses/perturbed_fenchel_young.gin
BANDS=(2 4 6 8 10 12 16 20)
for bands in "${BANDS[@]}"; do
  pretrain "${AUDIO}/freq${bands}_perturbed_fenchel_young" "$(audio_base)" \
    "gin/slicing/freq${bands}.gin" "$LOSS"
done
for bands in "${BANDS[@]}"; do
  probe "${AUDIO}/freq${bands}_perturbed_fenchel_young" figure4 \
    "evaluate.num_examples = (1000,)" "evaluate.baselines = ('pretrained',)"
done
report
