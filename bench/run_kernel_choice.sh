#!/usr/bin/env bash
# What one of escd's kernel choices is worth on this machine: bench_models run twice in one go, once
# with the kernels escd picks and once with one environment variable set against it, one thread
# each, alternating ROUNDS times so that a change in the host's speed hits both sides alike. Prints
# the median of each side and their ratio.
#   --against OPENBLAS_CORETYPE=Prescott  (default) OpenBLAS's kernel (src/util/blas_kernel.h): what
#                                         OpenBLAS 0.3.21 falls back to on CPUs it does not know
#   --against ATEN_CPU_CAPABILITY=avx2    ATen's kernels (src/util/aten_kernel.h): ATen's own default
# Usage: bench/run_kernel_choice.sh [--build DIR] [--rounds N] [--against VAR=VALUE]   (default: build, 2 rounds)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build"
ROUNDS=2
AGAINST=OPENBLAS_CORETYPE=Prescott
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --against) AGAINST="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "bench/run_kernel_choice.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
VARIABLE="${AGAINST%%=*}"
case "$VARIABLE" in
  OPENBLAS_CORETYPE|ATEN_CPU_CAPABILITY) ;;
  *) echo "bench/run_kernel_choice.sh: --against takes OPENBLAS_CORETYPE=... or ATEN_CPU_CAPABILITY=..., got '$AGAINST'" >&2; exit 2 ;;
esac
[[ "$AGAINST" == *=?* ]] || { echo "bench/run_kernel_choice.sh: --against $VARIABLE needs a value, e.g. $VARIABLE=avx2" >&2; exit 2; }
[[ -x "$BUILD/bin/bench_models" ]] || { echo "bench/run_kernel_choice.sh: missing $BUILD/bin/bench_models (run scripts/build.sh)" >&2; exit 1; }
TMP="$(mktemp -d /tmp/escd-kernel-choice.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
for ((i = 0; i < ROUNDS; ++i)); do
  echo "round $((i + 1))/$ROUNDS: escd's choice..." >&2
  env -u "$VARIABLE" "$BUILD/bin/bench_models" --threads 1 --stream-steps 50 > "$TMP/chosen.$i.json"
  echo "round $((i + 1))/$ROUNDS: $AGAINST..." >&2
  env "$AGAINST" "$BUILD/bin/bench_models" --threads 1 --stream-steps 50 > "$TMP/against.$i.json"
done
/usr/bin/python3 - "$TMP" "$ROUNDS" "$AGAINST" <<'EOF'
import json, statistics, sys
tmp, rounds, against = sys.argv[1], int(sys.argv[2]), sys.argv[3]
load = lambda side: [json.load(open(f"{tmp}/{side}.{i}.json")) for i in range(rounds)]
chosen, other = load("chosen"), load("against")
if against.startswith("OPENBLAS_CORETYPE="):
    choice = chosen[0].get("blas_core") or "not OpenBLAS"
else:
    choice = "ATen " + chosen[0].get("aten_kernels", "?")
def median(runs, get):
    return statistics.median(get(r) for r in runs)
rows = [("large GEMM, GFLOP/s", lambda r: r["gemm_gflops"], True)]
for m in chosen[0]["models"]:
    rows.append((f"{m}: training step, s", lambda r, m=m: r["models"][m]["train_step_s"], False))
    rows.append((f"{m}: inference forward, one clip, ms", lambda r, m=m: r["models"][m]["forward_clip_ms"], False))
    for key in sorted(k for k in chosen[0]["models"][m] if k.startswith("step_") and k.endswith("_us")):
        rows.append((f"{m}: streaming step, {key.split('_')[1]} row(s), us", lambda r, m=m, k=key: r["models"][m][k], False))
print(f"| what | escd's choice ({choice}) | {against} | speed-up |")
print("| --- | --- | --- | --- |")
for what, get, higher_is_better in rows:
    a, b = median(chosen, get), median(other, get)
    ratio = a / b if higher_is_better else b / a
    print(f"| {what} | {a:.4g} | {b:.4g} | {ratio:.2f}x |")
print(f"\nMedians of {rounds} alternating round(s), one thread, process CPU time (bench_models).")
EOF
