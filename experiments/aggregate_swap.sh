#!/usr/bin/env bash
# What the aggregate layer keeps of the patch encoder, on the audio twin: for
# each loss's seed-0 run at its chosen rate, three probes at 1000 labels on
# the test split, 3 probe seeds, pre-trained encoder only (the runs' random
# encoders are table 1's and probed_layer's):
#   <run>_swapped.json    the trained patch encoder under the run's initial
#                         embedding layer (experiments/aggregate_swap.py);
#   <run>_embedding.json  the run's own embedding (the trained layer);
#   <run>_fc6.json        the patch features either layer reads.
# Nothing is chosen from them. A probe whose JSON is there is kept, so table
# 1's probe of the same run, copied to <run>_embedding.json, saves that probe
# (results/soundfont_notes holds Fast Soft Ranking's and Perturbed F-Y's so
# made; MSE's, probed here, matched table 1's to the last digit). Then
#   python experiments/aggregate_swap.py summarize RESULTS/soundfont_notes/aggregate_swap
# Usage (after table 1's seed-0 runs):
#   bash experiments/aggregate_swap.sh [RUNS [RESULTS [RUN_NAME...]]]
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
runs=${1:-runs}/soundfont_notes
results=${2:-results/soundfont_notes}/aggregate_swap
shift 2 2>/dev/null || shift $#
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  # Fixed Permutation is left out: its fc6 is below the random encoder too,
  # so there is no lead of fc6 over the embedding to account for.
  names=(freq10_mse_lr1e-4 freq10_fast_soft_ranking_lr3e-5
         freq10_perturbed_fenchel_young_lr3e-5)
fi
mkdir -p "$results"
probe() {  # RUN_DIR OUTPUT [BINDING...]
  local run=$1 out=$2; shift 2
  if [ -f "$out" ]; then echo "kept $out"; return; fi
  "$python" -m s2l.evaluate --model_dir="$run" \
    --gin_param="evaluate.seeds = (0, 1, 2)" \
    --gin_param="evaluate.num_examples = (1000,)" \
    --gin_param="evaluate.baselines = ('pretrained',)" \
    "$@" --gin_param="evaluate.output = '$out'"
}
for name in "${names[@]}"; do
  swapped=$runs/aggregate_swap/$name
  [ -d "$swapped" ] || "$python" experiments/aggregate_swap.py swap "$runs/$name" "$swapped"
  probe "$swapped" "$results/${name}_swapped.json"
done
for name in "${names[@]}"; do
  probe "$runs/$name" "$results/${name}_embedding.json"
done
for name in "${names[@]}"; do
  probe "$runs/$name" "$results/${name}_fc6.json" \
    --gin_param="evaluate.layer = 'patch_features'"
done
