# Sourced by the table and figure scripts of experiments/: each is a sequence
# of `python -m s2l.train` (pre-training) and `python -m s2l.evaluate` (probe)
# calls, then `python -m s2l.report`. Settings, from the environment:
#
#   DATA=embedded  the embedded twins s2l builds offline (default)
#   DATA=real      the paper's data sets (NSynth, something-something v2,
#                  ImageNet + VOC 2012), prepared in DATA_DIR beforehand
#   NOTES=synthetic  with DATA=embedded, the audio twin: synthetic notes
#                  (default) or soundfont (notes rendered from the General
#                  MIDI SoundFont that pretty_midi ships)
#   BUDGET=small   fewer probe seeds and data regimes (default; on the
#                  embedded notes table 1 takes ~20 min on 2 CPU cores from
#                  scratch, 9 of them pre-training six CFNs);
#                  with DATA=real it also shortens pre-training to
#                  REAL_SMALL_STEPS steps instead of the paper's 1000 epochs
#   BUDGET=full    the paper's settings: 5 probe seeds, every regime
#   RUNS=runs      pre-training runs; a finished run is reused, a stopped one
#                  resumes from its last checkpoint
#   RESULTS=results  probe JSONs go to RESULTS/<experiment>/<run>.json and
#                  the report to RESULTS/<experiment>.md (+ .png)
#   DRY_RUN=1      print the commands instead of running them
#   PYTHON         the interpreter (.venv/bin/python when it exists)
#
# Extra arguments of a script go to every s2l.train call, for example
#   bash experiments/table1.sh --gin_param="train.train_steps = 400"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA="${DATA:-embedded}"
BUDGET="${BUDGET:-small}"
RUNS="${RUNS:-runs}"
RESULTS="${RESULTS:-results}"
REAL_SMALL_STEPS="${REAL_SMALL_STEPS:-50000}"
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
TRAIN_EXTRA=()

case "$DATA" in
  embedded) AUDIO="${NOTES:-synthetic}_notes"; VIDEO=synthetic_video
            IMAGES=synthetic_images
            if [[ "$AUDIO" != synthetic_notes && "$AUDIO" != soundfont_notes ]]; then
              echo "NOTES must be 'synthetic' or 'soundfont', got '${NOTES}'." >&2
              exit 2
            fi ;;
  real) AUDIO=nsynth; VIDEO=something_something_v2; IMAGES=imagenet2012
        if [[ -n "${DATA_DIR:-}" ]]; then
          TRAIN_EXTRA+=("--gin_param=train.data_dir = '${DATA_DIR}'")
        fi
        if [[ "$BUDGET" == small ]]; then
          TRAIN_EXTRA+=("--gin_param=train.train_steps = ${REAL_SMALL_STEPS}")
        fi ;;
  *) echo "DATA must be 'embedded' or 'real', got '$DATA'." >&2; exit 2 ;;
esac
case "$BUDGET" in
  small) SEEDS="(0, 1, 2)" ;;
  full) SEEDS="(0, 1, 2, 3, 4)" ;;
  *) echo "BUDGET must be 'small' or 'full', got '$BUDGET'." >&2; exit 2 ;;
esac
TRAIN_EXTRA+=("$@")  # The script's arguments come last and win.

# Runs (or, with DRY_RUN, prints) one command.
_run() {
  if [[ -n "${DRY_RUN:-}" ]]; then
    printf '%q ' "$@"
    echo
  else
    echo "+ $*" >&2
    "$@"
  fi
}

# pretrain NAME GIN_FILE_OR_BINDING...: pre-trains into $RUNS/NAME; the
# arguments ending in .gin are config files, the others gin bindings.
pretrain() {
  local name="$1"; shift
  local args=()
  for arg in "$@"; do
    if [[ "$arg" == *.gin ]]; then
      args+=("--gin_file=$arg")
    else
      args+=("--gin_param=$arg")
    fi
  done
  _run "$PYTHON" -m s2l.train "${args[@]}" "--model_dir=${RUNS}/${name}" \
    ${TRAIN_EXTRA[@]+"${TRAIN_EXTRA[@]}"}
}

# probe NAME EXPERIMENT [GIN_BINDING...]: probes $RUNS/NAME's encoder and
# writes $RESULTS/EXPERIMENT/<basename of NAME>.json.
probe() {
  local name="$1" experiment="$2"; shift 2
  local args=()
  for binding in "evaluate.seeds = ${SEEDS}" "$@"; do
    args+=("--gin_param=${binding}")
  done
  _run "$PYTHON" -m s2l.evaluate "--model_dir=${RUNS}/${name}" "${args[@]}" \
    "--gin_param=evaluate.output = '${RESULTS}/${experiment}/$(basename "$name").json'"
}

# report: renders every experiment folder of $RESULTS.
report() {
  _run "$PYTHON" -m s2l.report "$RESULTS"
}

# The audio configs: gin/<source>_freq10.gin, with other slicings and losses
# layered on top.
audio_base() { echo "gin/${AUDIO}_freq10.gin"; }

# compare_losses EXPERIMENT RUN_PREFIX REGIMES FIRST_BASELINES [BINDING...]:
# for each loss of $LOSSES, pre-trains RUN_PREFIX_<loss> from $BASE, the
# loss's config and the bindings of $PRETRAIN_BINDINGS, then probes every run
# on REGIMES labelled examples with the extra probe BINDINGs; the first run
# also carries the baselines of FIRST_BASELINES, the others the encoder only.
PRETRAIN_BINDINGS=()
compare_losses() {
  local experiment="$1" prefix="$2" regimes="$3" baselines="$4"; shift 4
  for loss in "${LOSSES[@]}"; do
    pretrain "${prefix}_${loss}" "$BASE" "gin/losses/${loss}.gin" \
      ${PRETRAIN_BINDINGS[@]+"${PRETRAIN_BINDINGS[@]}"}
  done
  for loss in "${LOSSES[@]}"; do
    probe "${prefix}_${loss}" "$experiment" \
      "evaluate.num_examples = ${regimes}" "evaluate.baselines = ${baselines}" \
      "$@"
    baselines="('pretrained',)"
  done
  report
}

# losses_table EXPERIMENT REGIMES: the audio CFN (10 frequency bands) with
# every pretext loss, the random embedding beside the first.
losses_table() {
  BASE="$(audio_base)"
  LOSSES=(perturbed_fenchel_young fast_soft_ranking mse fixed_permutations100
          list_mle approx_ndcg)
  compare_losses "$1" "${AUDIO}/freq10" "$2" "('pretrained', 'random')"
}
