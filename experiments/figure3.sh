#!/usr/bin/env bash
# Paper figure 3: the audio tasks against the number of labelled examples,
# for each pretext loss (10 frequency bands), the random embedding, and the
# same network trained end to end without pre-training.
# Settings (DATA, BUDGET, RUNS, RESULTS, DRY_RUN): see experiments/common.sh.
# The small budget probes 200, 1000 and 5000 labels with 2 seeds and trains
# the end-to-end baseline for 20 epochs; the full one 100 to 5000 labels.
#   bash experiments/figure3.sh              # embedded notes -> results/figure3.{md,png}
source "$(dirname "$0")/common.sh"
if [[ "$BUDGET" == small ]]; then
  REGIMES="(200, 1000, 5000)"; SEEDS="(0, 1)"; SUPERVISED_EPOCHS=20
else
  REGIMES="(100, 200, 500, 1000, 2000, 5000)"; SUPERVISED_EPOCHS=30
fi
BASE="$(audio_base)"
LOSSES=(perturbed_fenchel_young fast_soft_ranking mse fixed_permutations100)
compare_losses figure3 "${AUDIO}/freq10" "$REGIMES" \
  "('pretrained', 'random', 'supervised')" \
  "evaluate.supervised_epochs = ${SUPERVISED_EPOCHS}"
