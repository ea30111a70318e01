#!/usr/bin/env bash
# Fold-4 evals of standard-split runs' last.ckpt (the averaged weights after the last epoch, what a
# refit ships), clean and in the four conditions the rules judge (gain=-20 since DECISION-34),
# condition seed 0, for last_epoch_robustness.py. Run from the repository's root; an eval already written is kept.
#   train/experiments/crops/last_epoch_evals.sh OUT_DIR runs/<run> ...
# ESC50_DIR: the dataset (default ../shared/esc50); ESC_TRAIN: the binary (default build/bin/esc-train).
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 OUT_DIR RUN_DIR..." >&2; exit 2; }
out_dir=$1; shift
source "$(dirname "${BASH_SOURCE[0]}")/fold4_eval.sh"
mkdir -p "$out_dir"
for run in "$@"; do
  [[ -f $run/last.ckpt ]] || { echo "$run: no last.ckpt" >&2; exit 1; }
  for c in clean gain=-20 noise=pink@10 noise=white@10 rt60=0.5; do
    fold4_eval "$run/last.ckpt" "$c" "$out_dir/last.$(basename "$run").$c.json"
  done
done
