#!/usr/bin/env bash
# escd under subscriber load (bench/escd_subscribers.py): real-time raw PCM on stdin, one healthy
# subscriber measuring latency, plus stalled subscribers, a hundred that come and go, with and
# without CURVE. Prints one JSON line per scenario. Numbers depend on how loaded the machine is.
# Traffic is raised so that stalled subscribers do reach the high-water mark within the run: a
# prediction every 256 ms with all 50 scores (~1.3 KB), send_hwm 20, stalled receive queues of 20.
# Usage: bench/run_subscribers.sh [--build DIR] [--seconds S] [--checkpoint models/mamba.pt]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build"; SECONDS_RUN=60; CKPT="$ROOT/models/mamba.pt"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD="$2"; shift 2 ;;
    --seconds) SECONDS_RUN="$2"; shift 2 ;;
    --checkpoint) CKPT="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
command -v sox >/dev/null || { echo "sox is needed to make the audio" >&2; exit 1; }
TMP="$(mktemp -d /tmp/escd-subs-bench.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
sox -n -r 16000 -c 1 -b 16 -e signed "$TMP/input.raw" synth "$SECONDS_RUN" pinknoise vol 0.3
printf '[daemon]\nsend_hwm = 20\nhop_ms = 256\n[scores]\nfull = true\n' > "$TMP/escd.toml"
echo "# $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); ${SECONDS_RUN} s of pink noise; $CKPT"
run() {  # label, then escd_subscribers.py options
  local label="$1"; shift
  printf '%-24s ' "$label"
  /usr/bin/python3 "$ROOT/bench/escd_subscribers.py" --escd "$BUILD/bin/escd" --raw "$TMP/input.raw" \
    --seconds "$SECONDS_RUN" --stalled-hwm 20 "$@" -- --model mamba --checkpoint "$CKPT" --threads 1 --config "$TMP/escd.toml"
}
run "baseline"
run "10 stalled + 100 churn" --stalled 10 --churn 100
run "curve 10 stalled + 100" --curve --stalled 10 --churn 100
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
