#!/usr/bin/env bash
# escd's running costs at the default hop (500 ms), for every model with a checkpoint:
#  (a) CPU use of escd in real time, from a file input (--input <wav>, not --fast): utime+stime
#      from /proc/<pid>/stat over a measurement interval, as % of one core; each model alone and all
#      models together (--model a,b with [models.<name>] checkpoint = ... in a config file).
#  (b) per-hop latency: raw PCM written to `escd --input -` in real time, 32 ms at a time, by
#      bench/escd_latency.py; from the write() of a window's last sample to the esc.scores message's
#      `wall` (published) and to its arrival at a subscriber (esc-sub --json, another process). Also
#      escd's own health figures (frame_us and window_us p50/p99: inference time per frame/window).
#  (c) exact windows by staggered recurrent sessions vs recomputing the window every hop: CPU µs per
#      frame and their ratio (bench_windows, 1 torch thread and OPENBLAS_NUM_THREADS=1), at hops of
#      16 (the default, 512 ms), 4 and 1 frames.
#  (a) is run twice: escd as it is, and with OPENBLAS_NUM_THREADS=1 in its environment (OpenBLAS
#      keeps its own worker threads, which at::set_num_threads does not limit and which spin);
#      --no-openblas-variant skips the second run.
#
# Usage: bench/run_escd.sh [--build DIR] [--seconds S] [--parts abc] [--hops "16 4 1"] [--json FILE]
#                          [--no-openblas-variant] [--mamba CKPT] [--liquid_s4 CKPT] [--vjepa2 CKPT]
#   Checkpoints default to models/<model>.pt in the source tree; models without one are skipped.
#   --json FILE also writes the results as one JSON object (bench/run.sh reads it).
#   Audio: 40 s of ESC-50 fold-5 clips ($ESC50_DIR, default ../shared/esc50) at 16 kHz, or pink
#   noise without ESC-50. Needs sox and python3. Numbers depend on how loaded the machine is.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build"
SECONDS_MEASURED=20
PARTS_TO_RUN=abc
declare -A CKPT=()
MODELS_ALL=(mamba liquid_s4 vjepa2)
HOPS="16 4 1"
JSON_OUT=""
OPENBLAS_VARIANT=1

while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD="$2"; shift 2 ;;
    --seconds) SECONDS_MEASURED="$2"; shift 2 ;;
    --parts) PARTS_TO_RUN="$2"; shift 2 ;;
    --hops) HOPS="$2"; shift 2 ;;
    --json) JSON_OUT="$2"; shift 2 ;;
    --no-openblas-variant) OPENBLAS_VARIANT=0; shift ;;
    --mamba|--liquid_s4|--vjepa2) CKPT[${1#--}]="$2"; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

ESCD="$BUILD/bin/escd"
ESC_SUB="$BUILD/bin/esc-sub"
BENCH_WINDOWS="$BUILD/bin/bench_windows"
for b in "$ESCD" "$ESC_SUB" "$BENCH_WINDOWS"; do
  [[ -x "$b" ]] || { echo "missing $b (build targets escd esc-sub bench_windows in $BUILD)" >&2; exit 1; }
done
command -v sox >/dev/null || { echo "sox is needed to prepare the audio" >&2; exit 1; }

MODELS=()
for m in "${MODELS_ALL[@]}"; do
  c="${CKPT[$m]:-$ROOT/models/$m.pt}"
  if [[ -f "$c" ]]; then
    CKPT[$m]="$(cd "$(dirname "$c")" && pwd)/$(basename "$c")"
    MODELS+=("$m")
  else
    echo "note: no checkpoint for $m ($c), skipped"
  fi
done
[[ ${#MODELS[@]} -gt 0 ]] || { echo "no checkpoints: give --mamba/--liquid_s4 or put models/<model>.pt" >&2; exit 1; }

TMP="$(mktemp -d /tmp/escd-bench.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do
    [[ -n "$p" ]] && kill -0 "$p" 2>/dev/null && { kill -TERM "$p" 2>/dev/null || true; sleep 0.5; kill -KILL "$p" 2>/dev/null || true; }
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

# --- audio: 40 s at 16 kHz mono -------------------------------------------------------------
ESC50="${ESC50_DIR:-$ROOT/../shared/esc50}"
if [[ -f "$ESC50/meta/esc50.csv" ]]; then
  mapfile -t CLIPS < <(awk -F, 'NR > 1 && $2 == 5 { print $1 }' "$ESC50/meta/esc50.csv" | awk 'NR % 40 == 1' | head -8)
  PARTS=()
  for c in "${CLIPS[@]}"; do  # the csv names .wav; the audio may be stored as .flac
    if [[ -f "$ESC50/audio/$c" ]]; then PARTS+=("$ESC50/audio/$c"); else PARTS+=("$ESC50/audio/${c%.wav}.flac"); fi
  done
  sox "${PARTS[@]}" -r 16000 -c 1 -b 16 "$TMP/input.wav"
  AUDIO_DESC="${#CLIPS[@]} ESC-50 fold-5 clips"
else
  sox -n -r 16000 -c 1 -b 16 "$TMP/input.wav" synth 40 pinknoise vol 0.3
  AUDIO_DESC="pink noise (no ESC-50 at $ESC50)"
fi
sox "$TMP/input.wav" -t raw -e signed -b 16 -r 16000 -c 1 "$TMP/input.raw"
DURATION=$(soxi -D "$TMP/input.wav")

{
  echo "[daemon]"
  echo "hop_ms = 500"
  echo "threads = 1"
  for m in "${MODELS[@]}"; do printf '[models.%s]\ncheckpoint = "%s"\n' "$m" "${CKPT[$m]}"; done
} > "$TMP/escd.toml"

TICK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# (a) CPU % of one core while escd runs a file in real time.
declare -A CPU=() RSS=()
measure_cpu() {  # label models [VAR=value...]
  local label="$1" models="$2" log="$TMP/cpu-$1.log"
  shift 2
  env "$@" "$ESCD" --model "$models" --config "$TMP/escd.toml" --input "$TMP/input.wav" --pub "ipc://$TMP/cpu.sock" \
    --log-level info > "$log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  local waited=0
  until grep -qs "publishing on" "$log"; do  # -s: the log may not exist yet
    sleep 0.2; waited=$((waited + 1))
    if ! kill -0 "$pid" 2>/dev/null || [[ $waited -gt 300 ]]; then echo "escd ($label) did not start:"; cat "$log"; return 1; fi
  done
  sleep 1  # past start-up
  local t0 c0 t1 c1
  t0=$(date +%s.%N); c0=$(cpu_ticks "$pid")
  sleep "$SECONDS_MEASURED"
  t1=$(date +%s.%N); c1=$(cpu_ticks "$pid")
  RSS[$label]=$(awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$pid/status")
  CPU[$label]=$(awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v hz="$TICK" \
    'BEGIN { printf "%.1f", 100 * (c1 - c0) / hz / (t1 - t0) }')
  kill -TERM "$pid"; wait "$pid" || true
  echo "  cpu $label: ${CPU[$label]} % of one core, RSS ${RSS[$label]} MB"
}

LAT_LABELS=()
declare -A LAT=()
measure_latency() {  # label models
  local label="$1" models="$2"
  LAT[$label]=$(python3 "$ROOT/bench/escd_latency.py" --escd "$ESCD" --esc-sub "$ESC_SUB" --raw "$TMP/input.raw" \
    --endpoint "ipc://$TMP/lat.sock" --seconds "$SECONDS_MEASURED" --log "$TMP/lat-$label.log" \
    -- --model "$models" --config "$TMP/escd.toml" --log-level warn)
  LAT_LABELS+=("$label")
  echo "  latency $label: ${LAT[$label]}"
}

echo "escd benchmark: $(nproc --all) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); audio: $AUDIO_DESC, ${DURATION} s"
echo "models: ${MODELS[*]}; hop 500 ms; measured over ${SECONDS_MEASURED} s"
LABELS=("${MODELS[@]}")
if [[ ${#MODELS[@]} -gt 1 ]]; then LABELS+=("$(IFS=,; echo "${MODELS[*]}")"); fi

CPU_LABELS=()
if [[ $PARTS_TO_RUN == *a* ]]; then
  echo "(a) CPU, file input in real time"
  for l in "${LABELS[@]}"; do measure_cpu "$l" "$l"; CPU_LABELS+=("$l"); done
  if [[ $OPENBLAS_VARIANT == 1 ]]; then
    for l in "${LABELS[@]}"; do measure_cpu "$l+OB1" "$l" OPENBLAS_NUM_THREADS=1; CPU_LABELS+=("$l+OB1"); done
  fi
fi
if [[ $PARTS_TO_RUN == *b* ]]; then
  echo "(b) latency, raw PCM on stdin in real time"
  for l in "${LABELS[@]}"; do measure_latency "$l" "$l"; done
fi
if [[ $PARTS_TO_RUN == *c* ]]; then
  echo "(c) staggered sessions vs window recomputation (OPENBLAS_NUM_THREADS=1)"
  CK=()
  for m in "${MODELS[@]}"; do CK+=("${CKPT[$m]}"); done
  # With --json, one JSON line per model and hop instead of the table (the same measurement).
  WINDOWS_OUT="$TMP/windows.txt"
  [[ -n $JSON_OUT ]] && WINDOWS_OUT="$TMP/windows.jsonl"
  for hop in $HOPS; do
    OPENBLAS_NUM_THREADS=1 "$BENCH_WINDOWS" ${JSON_OUT:+--json} --hop-frames "$hop" --seconds 30 \
      --audio "$TMP/input.wav" "${CK[@]}"
  done | tee "$WINDOWS_OUT"
fi

echo
echo "== summary (load average now $(cut -d' ' -f1-3 /proc/loadavg)) =="
printf '%-18s %10s %8s   (+OB1: OPENBLAS_NUM_THREADS=1)\n' "run" "cpu %" "RSS MB"
for l in "${CPU_LABELS[@]}"; do printf '%-18s %10s %8s\n' "$l" "${CPU[$l]}" "${RSS[$l]}"; done
echo
printf '%-18s %-10s %5s | %-26s | %-26s | %-23s\n' "run" "model" "hops" "to publish p50/p99/max ms" \
  "to subscriber p50/p99/max" "escd window_us p50/p99"
for l in "${LAT_LABELS[@]}"; do
  python3 - "$l" "${LAT[$l]}" <<'PY'
import json, sys
label, r = sys.argv[1], json.loads(sys.argv[2])
if "error" in r:
    print(f"{label:<18} {r['error']}")
for model, s in r.get("models", {}).items():
    p, q, h = s["publish_ms"], s["receive_ms"], s["escd_health"]
    f = lambda d: f"{d['p50']:.1f} / {d['p99']:.1f} / {d['max']:.1f}"
    w = f"{(h['window_us_p50'] or 0):.0f} / {(h['window_us_p99'] or 0):.0f}"
    print(f"{label:<18} {model:<10} {s['hops']:>5} | {f(p):<26} | {f(q):<26} | {w:<23}")
if r.get("writer_late_chunks"):
    print(f"{'':<18} (the PCM writer was late by > 32 ms on {r['writer_late_chunks']} chunks: busy machine)")
PY
done
echo
[[ $PARTS_TO_RUN == *c* && -f "$TMP/windows.txt" ]] && grep -E "^(exact|model|mamba|liquid_s4|vjepa2) " "$TMP/windows.txt"
echo "cpu ratio = recompute CPU / staggered CPU per frame (> 1: staggered stepping is cheaper)"

if [[ -n $JSON_OUT ]]; then
  {
    echo "{\"cpu_percent\": {"
    sep=""
    for l in "${CPU_LABELS[@]}"; do printf '%s"%s": %s' "$sep" "$l" "${CPU[$l]}"; sep=", "; done
    echo "}, \"latency\": {"
    sep=""
    for l in "${LAT_LABELS[@]}"; do printf '%s"%s": %s' "$sep" "$l" "${LAT[$l]}"; sep=", "; done
    echo "}, \"windows\": ["
    [[ -f "$TMP/windows.jsonl" ]] && paste -sd, "$TMP/windows.jsonl"
    echo "], \"audio\": \"$AUDIO_DESC\", \"seconds\": $SECONDS_MEASURED}"
  } > "$JSON_OUT.tmp"
  mv "$JSON_OUT.tmp" "$JSON_OUT"
fi
