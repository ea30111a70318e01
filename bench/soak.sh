#!/usr/bin/env bash
# Soak test: N hours of audio through `escd --input - --fast`, then what a long run must show:
#   - resident memory (VmRSS) once the first loop is through, and at the end; the largest seen
#   - no seq gaps on a subscriber that keeps up (bench/soak_subscriber.py, receive HWM unlimited)
#   - the same predictions for the same audio in the first loop and in a late one
#   - escd's CPU time (user + system, from /usr/bin/time) per hour of audio
# The audio is ten ESC-50 clips of different classes ($ESC50_DIR, default ../shared/esc50) at
# 16 kHz, padded to a whole number of hops so that every loop's windows cover the same audio, and
# repeated until N hours. --fast runs as fast as the machine allows (a loaded machine just takes
# longer: every figure is per audio hour, not per wall hour).
#
# Usage: bench/soak.sh [--hours H] [--model mamba] [--checkpoint CKPT] [--build DIR] [--out DIR]
#   H may be fractional (0.05 for a 3-minute smoke run). Writes soak.json and the logs to --out
#   (default a new temporary directory) and prints a summary. Exit status 1 if a check fails.
# Needs sox, /usr/bin/time and python3-zmq (scripts/install-deps.sh installs them).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOURS=1
MODEL=mamba
CKPT=""
BUILD="$ROOT/build"
OUT=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --hours) HOURS="$2"; shift 2 ;;
    --model) MODEL="$2"; shift 2 ;;
    --checkpoint) CKPT="$2"; shift 2 ;;
    --build) BUILD="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
ESC50="${ESC50_DIR:-$ROOT/../shared/esc50}"
CKPT="${CKPT:-$ROOT/models/$MODEL.pt}"
ESCD="$BUILD/bin/escd"
for f in "$ESCD" "$CKPT" "$ESC50/meta/esc50.csv"; do
  [[ -e "$f" ]] || { echo "soak.sh: missing $f" >&2; exit 2; }
done
for tool in sox /usr/bin/time /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "soak.sh: $tool not found (scripts/install-deps.sh)" >&2; exit 2; }
done
OUT="${OUT:-$(mktemp -d /tmp/escd-soak.XXXXXX)}"
mkdir -p "$OUT"
echo "soak: $HOURS audio hour(s), model $MODEL, output in $OUT"

# One loop: the first fold-5 clip of ten different classes, 16 kHz mono s16le, padded with silence
# to a multiple of the hop (8192 samples = 512 ms, the --hop-ms below).
HOP_SAMPLES=8192
mapfile -t CLIPS < <(awk -F, 'NR > 1 && $2 == 5 && !seen[$3]++ { print $1 }' "$ESC50/meta/esc50.csv" | head -10)
PATHS=()
for c in "${CLIPS[@]}"; do
  base="$ESC50/audio/${c%.*}"
  if [[ -e "$base.wav" ]]; then PATHS+=("$base.wav"); else PATHS+=("$base.flac"); fi
done
sox "${PATHS[@]}" -t raw -r 16000 -e signed -b 16 -c 1 "$OUT/clips.raw"
bytes=$(stat -c %s "$OUT/clips.raw")
samples=$(( bytes / 2 ))
padded=$(( (samples + HOP_SAMPLES - 1) / HOP_SAMPLES * HOP_SAMPLES ))
{ cat "$OUT/clips.raw"; head -c $(( (padded - samples) * 2 )) /dev/zero; } > "$OUT/loop.raw"
LOOP_SECONDS=$(awk -v n="$padded" 'BEGIN { printf "%.6f", n / 16000 }')
LOOPS=$(awk -v h="$HOURS" -v l="$LOOP_SECONDS" 'BEGIN { n = h * 3600 / l; printf "%d", (n == int(n)) ? n : int(n) + 1 }')
(( LOOPS >= 1 )) || LOOPS=1
echo "soak: loop of ${#CLIPS[@]} clips = $LOOP_SECONDS s, $LOOPS loops"

printf '[scores]\nfull = true\ntop_k = 1\n' > "$OUT/escd.toml"
ENDPOINT="ipc://$OUT/pub.sock"
mkfifo "$OUT/audio.fifo"
# This script holds a writer, so that escd's open of the fifo does not block; no child may inherit
# it (3>&- on each), or escd would never see the end of its input.
exec 3<>"$OUT/audio.fifo"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# sh -c 'echo $$; exec ...' gives escd's own PID (for /proc) while /usr/bin/time measures it.
/usr/bin/time -o "$OUT/time.txt" -f '%e %U %S %M' \
  sh -c 'echo $$ > "$0"; exec "$@"' "$OUT/escd.pid" \
  "$ESCD" --model "$MODEL" --checkpoint "$CKPT" --config "$OUT/escd.toml" --pub "$ENDPOINT" \
  --input - --fast --format s16le --rate 16000 --channels 1 --hop-ms 512 \
  < "$OUT/audio.fifo" > "$OUT/escd.log" 2>&1 3>&- &
TIME_PID=$!
PIDS+=("$TIME_PID")
/usr/bin/python3 "$ROOT/bench/soak_subscriber.py" --endpoint "$ENDPOINT" --ready "$OUT/ready" \
  --loop-seconds "$LOOP_SECONDS" --loops "$LOOPS" --model "$MODEL" --out "$OUT/subscriber.json" 3>&- &
SUB_PID=$!
PIDS+=("$SUB_PID")
for _ in $(seq 600); do [[ -e "$OUT/ready" ]] && break; sleep 0.1; done
[[ -e "$OUT/ready" ]] || { echo "soak: no health message within 60 s; escd log:" >&2; cat "$OUT/escd.log" >&2; exit 1; }
ESCD_PID=$(cat "$OUT/escd.pid")

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$ESCD_PID/status" 2>/dev/null || true; }
( for ((i = 0; i < LOOPS; i++)); do cat "$OUT/loop.raw"; done ) > "$OUT/audio.fifo" 3>&- &
FEED_PID=$!
PIDS+=("$FEED_PID")
exec 3>&-  # from now on the feeder is the only writer: its end is escd's end of input

# Memory: every 2 s, with the stream time reached (from the log-free side: bytes fed are not
# processed bytes, so the time is wall time since the feed started).
started=$(date +%s.%N)
: > "$OUT/rss.tsv"
while kill -0 "$ESCD_PID" 2>/dev/null; do
  r=$(rss_kb)
  [[ -n "$r" ]] && printf '%s\t%s\n' "$(awk -v s="$started" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }')" "$r" >> "$OUT/rss.tsv"
  sleep 2
done
wait "$FEED_PID" || true
wait "$TIME_PID" || { echo "soak: escd failed; log:" >&2; tail -20 "$OUT/escd.log" >&2; exit 1; }
wait "$SUB_PID" || true
trap - EXIT

/usr/bin/python3 - "$OUT" "$HOURS" "$LOOPS" "$LOOP_SECONDS" <<'PY'
import json, sys
out, hours, loops, loop_s = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
sub = json.load(open(f"{out}/subscriber.json"))
wall, user, sys_, maxrss = open(f"{out}/time.txt").read().split()[-4:]
rss = [tuple(map(float, l.split("\t"))) for l in open(f"{out}/rss.tsv") if l.strip()]
audio_h = loops * loop_s / 3600
# "start": the first sample after the first loop went through (models loaded, buffers warm).
first_loop_wall = float(wall) / loops
start = next((r for t, r in rss if t >= first_loop_wall), rss[0][1] if rss else 0)
result = {
    "audio_hours": audio_h,
    "wall_seconds": float(wall),
    "cpu_seconds": float(user) + float(sys_),
    "cpu_seconds_per_audio_hour": (float(user) + float(sys_)) / audio_h,
    "rss_kb_start": start,
    "rss_kb_end": rss[-1][1] if rss else 0,
    "rss_kb_max": int(maxrss),
    "subscriber": sub,
}
json.dump(result, open(f"{out}/soak.json", "w"), indent=1)
print(f"audio: {audio_h:.2f} h in {float(wall):.0f} s wall ({audio_h * 3600 / float(wall):.1f}x real time)")
print(f"cpu: {result['cpu_seconds']:.0f} s = {result['cpu_seconds_per_audio_hour']:.0f} s per audio hour")
print(f"rss: {start / 1024:.1f} MiB after the first loop, {result['rss_kb_end'] / 1024:.1f} MiB at the end, "
      f"max {int(maxrss) / 1024:.1f} MiB")
print(f"messages: {sub['messages']}")
print(f"seq gaps: {sub['seq_gaps'] or 'none'}")
print(f"same audio, loop 0 vs loop {sub['late_loop']}: {sub['windows_compared']} windows, "
      f"top-1 agrees in {sub['top1_agree']}, largest score difference {sub['max_abs_score_diff']:.2e}")
ok = not sub["seq_gaps"] and sub["windows_compared"] > 0 and sub["top1_agree"] == sub["windows_compared"] \
     and sub["max_abs_score_diff"] <= 1e-4
print("soak:", "OK" if ok else "FAILED", f"({out}/soak.json)")
sys.exit(0 if ok else 1)
PY
