#!/usr/bin/env bash
# Quiet-room benchmark: escd on empty rooms, counting event starts (the answer must be 0). Each signal
# is made by sox (its own generators, not the ones training used), set to its RMS level in dBFS,
# 16-bit like a sound card, and streamed through `escd --input - --fast` for H hours:
#   digital silence; pink, brown and white noise at -60, -45 and -30 dBFS; mains hum (50 Hz and
#   harmonics over pink noise) and an HVAC-like rumble (brown noise with a slow tremolo and a 120 Hz
#   tone) at -45 and -30 dBFS.
# Usage: bench/quiet_room.sh [--hours H] [--models mamba[,liquid_s4,...]] [--ensemble] [--build DIR]
#                            [--out DIR] [--config FILE] [--signals "silence pink:-45 hum:-30 ..."]
#        bench/quiet_room.sh --list-signals   (the default signals, one per line, as --signals takes them)
# Writes quiet_room.json (per signal and model: windows, background windows, top-1 labels, event
# starts) to --out (default a new temporary directory), prints a Markdown table, and exits 1 if any
# event started. Needs sox and python3-zmq (scripts/install-deps.sh installs them).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOURS=1
MODELS=mamba
ENSEMBLE=()
BUILD="$ROOT/build"
OUT=""
CONFIG=""
SIGNALS=""
LIST_SIGNALS=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --hours) HOURS="$2"; shift 2 ;;
    --models) MODELS="$2"; shift 2 ;;
    --ensemble) ENSEMBLE=(--ensemble); shift ;;
    --build) BUILD="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --config) CONFIG="$2"; shift 2 ;;
    --signals) SIGNALS="$2"; shift 2 ;;
    --list-signals) LIST_SIGNALS=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "quiet_room.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
CASES=("silence:-inf")
for kind in pink brown white; do for level in -60 -45 -30; do CASES+=("$kind:$level"); done; done
for kind in hum hvac; do for level in -45 -30; do CASES+=("$kind:$level"); done; done
if (( LIST_SIGNALS )); then
  for c in "${CASES[@]}"; do echo "${c/#silence:-inf/silence}"; done
  exit 0
fi
ESCD="$BUILD/bin/escd"
[[ -x "$ESCD" ]] || { echo "quiet_room.sh: missing $ESCD (scripts/build.sh)" >&2; exit 2; }
for tool in sox /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "quiet_room.sh: $tool not found (scripts/install-deps.sh)" >&2; exit 2; }
done
OUT="${OUT:-$(mktemp -d /tmp/escd-quiet-room.XXXXXX)}"
mkdir -p "$OUT"
SECONDS_TOTAL=$(awk -v h="$HOURS" 'BEGIN { printf "%d", h * 3600 }')
RAW=(-t raw -e floating-point -b 32 -r 16000 -c 1)

# An unscaled signal of $2 seconds on stdout (32-bit float); -R: the same noise every run.
signal() {
  local kind=$1 s=$2
  case "$kind" in
    silence) head -c $(( s * 16000 * 4 )) /dev/zero ;;
    white|pink|brown) sox -R -n "${RAW[@]}" - synth "$s" "${kind}noise" ;;
    hum)
      sox -R -m "${RAW[@]}" <(sox -R -n "${RAW[@]}" - synth "$s" sine 50) \
        "${RAW[@]}" <(sox -R -n "${RAW[@]}" - synth "$s" sine 100 gain -6) \
        "${RAW[@]}" <(sox -R -n "${RAW[@]}" - synth "$s" sine 150 gain -10) \
        "${RAW[@]}" <(sox -R -n "${RAW[@]}" - synth "$s" sine 250 gain -18) \
        "${RAW[@]}" <(sox -R -n "${RAW[@]}" - synth "$s" pinknoise gain -30) "${RAW[@]}" - ;;
    hvac)
      sox -R -m "${RAW[@]}" <(sox -R -n "${RAW[@]}" - synth "$s" brownnoise tremolo 0.2 20) \
        "${RAW[@]}" <(sox -R -n "${RAW[@]}" - synth "$s" sine 120 gain -20) \
        "${RAW[@]}" <(sox -R -n "${RAW[@]}" - synth "$s" pinknoise gain -25) "${RAW[@]}" - ;;
    *) echo "quiet_room.sh: unknown signal $kind" >&2; return 2 ;;
  esac
}

# The gain (dB) that puts the signal's RMS at $2 dBFS, measured on its first 10 s.
calibrate() {
  local measured
  measured=$(signal "$1" 10 | sox "${RAW[@]}" - -n stats 2>&1 | awk '/RMS lev dB/ { print $4 }')
  awk -v t="$2" -v m="$measured" 'BEGIN { printf "%.2f", t - m }'
}

if [[ -n "$SIGNALS" ]]; then
  CASES=()
  for c in $SIGNALS; do [[ "$c" == silence ]] && CASES+=("silence:-inf") || CASES+=("$c"); done
fi

[[ -n "$CONFIG" ]] || { CONFIG="$OUT/escd.toml"; printf '[scores]\ntop_k = 1\n' > "$CONFIG"; }
echo "quiet room: ${#CASES[@]} signals of $HOURS h each, models $MODELS ${ENSEMBLE[*]}, output in $OUT"
RESULTS="$OUT/quiet_room.json"
echo "{}" > "$RESULTS"
for case in "${CASES[@]}"; do
  kind=${case%%:*}
  level=${case#*:}
  name="$kind${level/#-inf/}"
  [[ "$kind" == silence ]] || name="$kind $level dBFS"
  dir="$OUT/${kind}${level}"
  mkdir -p "$dir"
  gain=0
  [[ "$kind" == silence ]] || gain=$(calibrate "$kind" "$level")
  endpoint="ipc://$dir/pub.sock"
  # escd reads a fifo that this script holds open, so that the audio goes in only once the
  # subscriber has seen a health message (ZeroMQ's slow joiner); no child inherits that writer (3>&-).
  mkfifo "$dir/audio.fifo"
  exec 3<>"$dir/audio.fifo"
  "$ESCD" --model "$MODELS" "${ENSEMBLE[@]}" --config "$CONFIG" --pub "$endpoint" \
    --input - --fast --format s16le --rate 16000 --channels 1 < "$dir/audio.fifo" > "$dir/escd.log" 2>&1 3>&- &
  escd_pid=$!
  /usr/bin/python3 "$ROOT/bench/quiet_room_subscriber.py" --endpoint "$endpoint" --ready "$dir/ready" \
    --out "$dir/subscriber.json" 3>&- &
  sub=$!
  for _ in $(seq 600); do [[ -e "$dir/ready" ]] && break; sleep 0.1; done
  [[ -e "$dir/ready" ]] || { echo "quiet_room.sh: no health message within 60 s; log:" >&2; cat "$dir/escd.log" >&2; exit 1; }
  ( signal "$kind" "$SECONDS_TOTAL" | sox "${RAW[@]}" - -t raw -e signed -b 16 -r 16000 -c 1 - gain "$gain" ) \
    > "$dir/audio.fifo" 3>&- &
  exec 3>&-  # the feeder is now the only writer: its end is escd's end of input
  wait "$escd_pid" || { echo "quiet_room.sh: escd failed on $name; log:" >&2; tail -20 "$dir/escd.log" >&2; kill "$sub"; exit 1; }
  wait "$sub"
  /usr/bin/python3 - "$RESULTS" "$name" "$dir/subscriber.json" <<'PY'
import json, sys
path, name, sub = sys.argv[1:4]
results = json.load(open(path))
results[name] = json.load(open(sub))
json.dump(results, open(path, "w"), indent=1)
PY
  echo "  $name: $(tr -d '\n ' < "$dir/subscriber.json" | cut -c1-200)"
done

/usr/bin/python3 - "$RESULTS" "$HOURS" <<'PY'
import json, sys
results, hours = json.load(open(sys.argv[1])), float(sys.argv[2])
models = sorted({m for r in results.values() for m in r})
print(f"\n| signal ({hours:g} h each) | " + " | ".join(f"{m}: event starts / background windows" for m in models) + " |")
print("| --- |" + " --- |" * len(models))
failed = False
for name, r in results.items():
    cells = []
    for m in models:
        s = r.get(m, {"event_starts": "-", "background_windows": 0, "windows": 0})
        failed |= s["event_starts"] not in (0, "-")
        share = 100.0 * s["background_windows"] / max(s["windows"], 1)
        cells.append(f"{s['event_starts']} / {share:.1f}%")
    print(f"| {name} | " + " | ".join(cells) + " |")
sys.exit(1 if failed else 0)
PY
