#!/usr/bin/env bash
# escd against PyTorch reference implementations, in one run on one machine, one thread each side:
# training step, inference forward and streaming step of every model (bench_models vs
# reference_models.py), the front end (bench_front_end vs torchaudio), the training FLOP rate
# against a large GEMM measured in the same run, and escd end to end (run_escd.sh: CPU in real
# time with one model and with all three, per-hop latency, staggered exact windows vs recomputing;
# on an AVX-512 CPU the CPU in real time again with AVX2 kernels), and, with --results, where each model's training step spends its time (training_profile.sh).
# Prints one markdown table (bench/compare.py); with --results FILE also writes it there with the
# command, the machine, its load and the date (bench/RESULTS.md holds the latest).
#
# Usage: bench/run.sh [--build DIR] [--repeats N] [--escd-seconds S] [--no-escd] [--results FILE]
#        bench/run.sh --smoke     tiny models, batch 2, no escd runs: checks the pipeline in seconds
# Needs the build (scripts/build.sh) and the Python reference (scripts/install-deps.sh --dev).
# Times are CPU time of the benchmark process (one thread, OPENBLAS_NUM_THREADS=1), which a busy
# machine disturbs much less than wall time; both sides run back to back under the same load.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build"
REPEATS=3
ESCD_SECONDS=15
RUN_ESCD=1
SMOKE=0
RESULTS=""
COMMAND="bench/run.sh $*"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD="$2"; shift 2 ;;
    --repeats) REPEATS="$2"; shift 2 ;;
    --escd-seconds) ESCD_SECONDS="$2"; shift 2 ;;
    --no-escd) RUN_ESCD=0; shift ;;
    --results) RESULTS="$2"; shift 2 ;;
    --smoke) SMOKE=1; RUN_ESCD=0; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

PY=/usr/bin/python3  # Debian's python3-torch: the same ATen kernels as escd's libtorch
if ! "$PY" -c 'import torch, torchaudio' 2>/dev/null; then
  echo "bench/run.sh: $PY cannot import torch and torchaudio (install them: scripts/install-deps.sh --dev)" >&2
  exit 77  # ctest: skipped
fi
for b in bench_models bench_front_end; do
  [[ -x "$BUILD/bin/$b" ]] || { echo "bench/run.sh: missing $BUILD/bin/$b (run scripts/build.sh)" >&2; exit 1; }
done

TMP="$(mktemp -d /tmp/escd-run.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1  # one thread on both sides, BLAS included

if [[ $SMOKE == 1 ]]; then
  SIZES=(--tiny --batch 2 --frames 40 --repeats 1 --rows 3 --stream-steps 5 --gemm 128)
else
  SIZES=(--repeats "$REPEATS")
fi
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "escd (bench_models)..." >&2
"$BUILD/bin/bench_models" --threads 1 "${SIZES[@]}" > "$TMP/ours.json"
echo "escd (bench_models) with its AVX2 kernels..." >&2
ESCD_CPU_CAPABILITY=avx2 "$BUILD/bin/bench_models" --threads 1 "${SIZES[@]}" > "$TMP/ours_avx2.json"
# escd picks its OpenBLAS kernel for the CPU (src/util/blas_kernel.h); the reference runs the same
# one, so that the main table compares the models' code, not the BLAS kernels.
BLAS_CORE=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("blas_core", ""))' "$TMP/ours.json")
echo "PyTorch reference (reference_models.py), OpenBLAS kernel ${BLAS_CORE:-as installed}..." >&2
if [[ -n $BLAS_CORE ]]; then
  OPENBLAS_CORETYPE="$BLAS_CORE" "$PY" "$ROOT/bench/reference_models.py" "${SIZES[@]}" > "$TMP/reference.json"
else
  "$PY" "$ROOT/bench/reference_models.py" "${SIZES[@]}" > "$TMP/reference.json"
fi
# PyTorch as a user runs it: OpenBLAS's own kernel choice (Prescott on CPUs it does not know).
# Mamba is left out: its reference is a per-time-step loop, minutes per step whatever the kernel.
echo "PyTorch reference as installed (OpenBLAS's own kernel choice)..." >&2
env -u OPENBLAS_CORETYPE "$PY" "$ROOT/bench/reference_models.py" "${SIZES[@]}" --models liquid_s4,vjepa2 \
  > "$TMP/reference_as_installed.json"

echo "front end..." >&2
FE_FILTER=BM_BatchClip
[[ $SMOKE == 1 ]] && FE_ARGS=(--benchmark_min_time=0.05) || FE_ARGS=()
OURS_FE=$("$BUILD/bin/bench_front_end" --benchmark_filter="$FE_FILTER" --benchmark_format=json "${FE_ARGS[@]}" |
  "$PY" -c 'import json,sys; print(json.load(sys.stdin)["benchmarks"][0]["frames_per_s"])')
REF_FE=$(SECONDS_PER_RATE=$([[ $SMOKE == 1 ]] && echo 0.2 || echo 2) "$PY" "$ROOT/bench/reference_front_end.py" |
  awk '/clip_frames/ {print $2}')
printf '{"escd_frames_per_s": %s, "torchaudio_frames_per_s": %s}\n' "$OURS_FE" "$REF_FE" > "$TMP/front_end.json"

ESCD_JSON=()
STATUS=0
if [[ $RUN_ESCD == 1 ]]; then
  echo "escd end to end (run_escd.sh)..." >&2
  # V-JEPA2 ships no checkpoint yet: its costs do not depend on the weights, so an untrained one
  # stands in (models/<model>.pt is used when present).
  EXTRA=()
  for m in mamba liquid_s4 vjepa2; do
    if [[ ! -f "$ROOT/models/$m.pt" ]]; then
      "$BUILD/bin/bench_models" --save-checkpoint "$m" "$TMP/$m.ckpt" >&2
      EXTRA+=("--$m" "$TMP/$m.ckpt")
    fi
  done
  "$ROOT/bench/run_escd.sh" --build "$BUILD" --seconds "$ESCD_SECONDS" --hops 16 --no-openblas-variant \
    --json "$TMP/escd.json" "${EXTRA[@]}" >&2
  ESCD_JSON=(--escd "$TMP/escd.json")
  # The same CPU measurement with escd's and ATen's kernels capped at AVX2, as on an AVX2-only CPU
  # (skipped on a CPU without AVX-512, where the run above already is at AVX2 or below).
  if grep -qw avx512f /proc/cpuinfo; then
    ESCD_CPU_CAPABILITY=avx2 "$ROOT/bench/run_escd.sh" --build "$BUILD" --seconds "$ESCD_SECONDS" --parts a \
      --no-openblas-variant --json "$TMP/escd_avx2.json" "${EXTRA[@]}" >&2
    ESCD_JSON+=(--escd-avx2 "$TMP/escd_avx2.json")
  fi
fi

"$PY" "$ROOT/bench/compare.py" --ours "$TMP/ours.json" --ours-avx2 "$TMP/ours_avx2.json" --reference "$TMP/reference.json" \
  --reference-as-installed "$TMP/reference_as_installed.json" --front-end "$TMP/front_end.json" "${ESCD_JSON[@]}" \
  > "$TMP/table.md" || STATUS=$?
cat "$TMP/table.md"

if [[ -n $RESULTS ]]; then
  # Sections other benchmarks keep in the file, between their <!-- bench/NAME.sh --> markers.
  KEPT=""
  if [[ -f $RESULTS ]]; then KEPT="$(sed -n '/^<!-- bench\/[a-z_]*\.sh -->$/,/^<!-- end bench\/[a-z_]*\.sh -->$/p' "$RESULTS")"; fi
  {
    echo "# Benchmarks: escd vs PyTorch reference implementations"
    echo
    echo "Generated by \`$COMMAND\` on $(date -u '+%Y-%m-%d %H:%M UTC'), git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')."
    echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc --all) cores; load average $LOAD_BEFORE before,"
    echo "$(cut -d' ' -f1-3 /proc/loadavg) after (the machine was shared; both sides ran back to back under the same load)."
    echo
    cat "$TMP/table.md"
    if [[ -n $KEPT ]]; then echo; echo "$KEPT"; fi
  } > "$RESULTS.tmp"
  mv "$RESULTS.tmp" "$RESULTS"
  echo "wrote $RESULTS" >&2
  # The training profile (its own section; bench/training_profile.sh alone regenerates only that).
  # (--build only when given: the section names its command, which should not carry this machine's paths.)
  if [[ $SMOKE == 0 ]]; then
    PROFILE_ARGS=(--results "$RESULTS")
    [[ $BUILD != "$ROOT/build" ]] && PROFILE_ARGS+=(--build "$BUILD")
    "$ROOT/bench/training_profile.sh" "${PROFILE_ARGS[@]}" >&2
  fi
fi
exit $STATUS
