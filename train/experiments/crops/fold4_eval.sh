# Sourced by fold4_conditions.sh and last_epoch_evals.sh: their one way of evaluating a checkpoint.
# ESC50_DIR: the dataset (default ../shared/esc50); ESC_TRAIN: the binary (default build/bin/esc-train).

# fold4_eval CHECKPOINT CONDITION OUT_JSON: `esc-train eval` of CHECKPOINT on fold 4 under CONDITION
# ("clean" or an --condition value; condition seed 0), its JSON written to OUT_JSON. An OUT_JSON that
# already exists is kept, so a stopped measurement continues where it stopped.
fold4_eval() {
  local checkpoint=$1 condition=$2 out=$3
  [[ -f $out ]] && return 0
  local cond=()
  [[ $condition != clean ]] && cond=(--condition "$condition")
  "${ESC_TRAIN:-build/bin/esc-train}" eval --checkpoint "$checkpoint" --fold 4 "${cond[@]}" \
    --data "${ESC50_DIR:-../shared/esc50}" --threads 1 --json "$out" > /dev/null
}
