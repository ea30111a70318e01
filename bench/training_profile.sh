#!/usr/bin/env bash
# Where a training step's time goes (bench/bench_training_profile.cpp): for each model, the step's
# phases, the model's named parts forward and backward, the ops with most self time, and the step's
# FLOP rate against the GEMM rate. Writes bench/results/training_profile.json and replaces the
# "Where a training step's time goes" section of bench/RESULTS.md.
# Usage: bench/training_profile.sh [--models mamba,liquid_s4,vjepa2] [--steps 5] [--threads 1]
#                                  [--build DIR] [--results FILE] [--json FILE] [--smoke]
# Run it on a quiet machine: the parts are wall-time shares from the profiler. --smoke (the test
# suite's): a batch of 2 x 16 frames, one step, checks that every part has forward and backward
# time, writes nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build"
RESULTS="$ROOT/bench/RESULTS.md"
JSON="$ROOT/bench/results/training_profile.json"
MODELS=mamba,liquid_s4,vjepa2
STEPS=5
THREADS=1
SMOKE=0
COMMAND="bench/training_profile.sh${*:+ $*}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --models) MODELS="${2:?--models needs a value}"; shift 2 ;;
    --steps) STEPS="${2:?--steps needs a value}"; shift 2 ;;
    --threads) THREADS="${2:?--threads needs a value}"; shift 2 ;;
    --build) BUILD="${2:?--build needs a value}"; shift 2 ;;
    --results) RESULTS="${2:?--results needs a value}"; shift 2 ;;
    --json) JSON="${2:?--json needs a value}"; shift 2 ;;
    --smoke) SMOKE=1; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "training_profile.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

if [[ $SMOKE -eq 1 ]]; then
  "$BUILD/bin/bench_training_profile" --models "$MODELS" --batch 2 --frames 16 --steps 1 --profile-steps 1 > "$TMP/profile.json"
  python3 "$ROOT/bench/training_profile_tables.py" "$TMP/profile.json" --check
  python3 "$ROOT/bench/training_profile_tables.py" "$TMP/profile.json" > /dev/null
  exit 0
fi
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
"$BUILD/bin/bench_training_profile" --models "$MODELS" --steps "$STEPS" --threads "$THREADS" --profile-steps 3 \
  > "$TMP/profile.json"
python3 "$ROOT/bench/training_profile_tables.py" "$TMP/profile.json" --command "$COMMAND" \
  --load "$LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg)" > "$TMP/section.md"
cat "$TMP/section.md"
mkdir -p "$(dirname "$JSON")"
cp "$TMP/profile.json" "$JSON.tmp" && mv "$JSON.tmp" "$JSON"
"$ROOT/bench/results_section.sh" training_profile "$RESULTS" < "$TMP/section.md"
echo "wrote $RESULTS and $JSON" >&2
