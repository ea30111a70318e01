#!/usr/bin/env bash
# Front end against torchaudio, same machine, same run: frames per second on one core, and the ratio.
# Needs the build (scripts/build.sh) and the Python reference (scripts/install-deps.sh --dev).
set -euo pipefail
cd "$(dirname "$0")/.."
ours=$(build/bin/bench_front_end --benchmark_filter=BM_BatchClip --benchmark_format=json |
  /usr/bin/python3 -c 'import json,sys; print(int(json.load(sys.stdin)["benchmarks"][0]["frames_per_s"]))')
ref=$(/usr/bin/python3 bench/reference_front_end.py | awk '/clip_frames/ {print $2}')
printf '%-34s %12s\n' "front end (1 core, 5 s clips)" "frames/s"
printf '%-34s %12s\n' "escd LogMelFrameComputer" "$ours"
printf '%-34s %12s\n' "torchaudio MelSpectrogram" "$ref"
printf '%-34s %12.2fx\n' "ratio" "$(echo "$ours / $ref" | bc -l)"
