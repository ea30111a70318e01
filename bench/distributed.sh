#!/usr/bin/env bash
# Data-parallel training on this machine (docs/DISTRIBUTED.md): the real recipe of a model trained
# for two epochs by one process and by --nproc 2 ranks (same global batch, one thread per rank), the
# second epoch measured: step and epoch time, clips/s, and the gradient all-reduce's bytes and time per
# step. From those figures, an estimate of the epoch time on 4..64 machines on 1 and 10 GbE
# (bench/distributed_estimate.py). Writes bench/results/distributed.json and replaces the
# "Data-parallel training" section of bench/RESULTS.md.
# Usage: bench/distributed.sh [--model mamba] [--build DIR] [--results FILE] [--json FILE]
# Needs ESC-50 in $ESC50_DIR (default ../shared/esc50) and a quiet machine (both cores).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL=mamba
BUILD="$ROOT/build"
RESULTS="$ROOT/bench/RESULTS.md"
JSON="$ROOT/bench/results/distributed.json"
COMMAND="bench/distributed.sh${*:+ $*}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --model) MODEL="$2"; shift 2 ;;
    --build) BUILD="$2"; shift 2 ;;
    --results) RESULTS="$2"; shift 2 ;;
    --json) JSON="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "distributed.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
ESC50_DIR="${ESC50_DIR:-$ROOT/../shared/esc50}"
[[ -f "$ESC50_DIR/meta/esc50.csv" ]] || { echo "distributed.sh: ESC-50 not found at $ESC50_DIR" >&2; exit 1; }
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
for ranks in 1 2; do
  # Three epochs in the schedule, two run: the second is the one measured (caches and pages warm);
  # no validation before the third.
  "$BUILD/bin/esc-train" fit --model "$MODEL" --data "$ESC50_DIR" --out "$TMP/ranks$ranks" --threads 1 \
    --epochs 3 --set eval_every=3 --stop-after 2 --nproc "$ranks" > "$TMP/ranks$ranks.log" 2>&1 ||
    { cat "$TMP/ranks$ranks.log" >&2; exit 1; }
done
/usr/bin/python3 "$ROOT/bench/distributed_estimate.py" --one "$TMP/ranks1/metrics.jsonl" \
  --two "$TMP/ranks2/metrics.jsonl" --model "$MODEL" --command "$COMMAND" --json "$JSON" \
  --load "$LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg)" > "$TMP/section.md"
cat "$TMP/section.md"

"$ROOT/bench/results_section.sh" distributed "$RESULTS" < "$TMP/section.md"
echo "wrote $RESULTS and $JSON" >&2
