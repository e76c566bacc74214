# Sourced by the scripts of experiments/: each is one call of
#
#   python -m s2l.experiments --experiment=<script name> [flags]
#
# whose plan (pre-trainings, probes, report layout) is declared in
# s2l/plans.py. The script's arguments are its absl flags:
#
#   --data=embedded  the embedded twins s2l builds offline (default)
#   --data=real      the paper's data sets (NSynth, something-something v2,
#                    ImageNet + VOC 2012), prepared in --data_dir beforehand
#   --notes=synthetic|soundfont  with embedded data, the audio twin: synthetic
#                    notes (default) or notes rendered from the General MIDI
#                    SoundFont that pretty_midi ships
#   --budget=small   3 probe seeds, fewer regimes in figure 3, and on real
#                    data 50000 pre-training steps (default;
#                    gin/budgets/small.gin); --budget=full is the paper's,
#                    with 20000 steps on the embedded twins
#                    (gin/budgets/full.gin); or the path of a gin file
#   --runs=runs --results=results  where runs, probe JSONs and reports go
#                    (default runs/ and results/, or runs/full/ and
#                    results/full/ with --budget=full); a finished run is
#                    reused, a stopped one resumes, and a probe whose JSON is
#                    in --results already is kept, its run not trained again
#   --reprobe        probe again, replacing the JSONs in --results
#   --until_settled  a learning-rate sweep: per loss, only the rates that the
#                    selection rule needs to settle its choice
#   --dry_run        print the commands instead of running them
#   --gin_param=...  --gin_file=...  go to every s2l.train call, e.g.
#   bash experiments/table1.sh --gin_param="train.train_steps = 400"
#
# The environment variables of earlier versions still work and become those
# flags: DATA, NOTES, BUDGET, DATA_DIR, RUNS, RESULTS, DRY_RUN=1; PYTHON is
# the interpreter (.venv/bin/python when it exists).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"

# run_experiment NAME [FLAG...]: runs (or prints) the experiment NAME.
run_experiment() {
  local args=("--experiment=$1"); shift
  if [[ -n "${DATA:-}" ]]; then args+=("--data=${DATA}"); fi
  if [[ -n "${NOTES:-}" ]]; then args+=("--notes=${NOTES}"); fi
  if [[ -n "${BUDGET:-}" ]]; then args+=("--budget=${BUDGET}"); fi
  if [[ -n "${DATA_DIR:-}" ]]; then args+=("--data_dir=${DATA_DIR}"); fi
  if [[ -n "${RUNS:-}" ]]; then args+=("--runs=${RUNS}"); fi
  if [[ -n "${RESULTS:-}" ]]; then args+=("--results=${RESULTS}"); fi
  if [[ -n "${DRY_RUN:-}" ]]; then args+=("--dry_run"); fi
  exec "$PYTHON" -m s2l.experiments "${args[@]}" "$@"
}
