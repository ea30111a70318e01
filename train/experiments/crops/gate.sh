#!/usr/bin/env bash
# GATE.txt's quiet-room gate for a refit: escd with CHECKPOINT as MODEL, default settings otherwise, on
# the empty-room signals of `bench/quiet_room.sh --hours 0.5` (14), in two halves side by
# side (one core each). Writes OUT_DIR/quiet_room.json (both halves' results) and exits 0 only if both
# halves ran and no event started in any signal; otherwise with quiet_room.sh's status (1: an event
# started or escd failed; 2: bad input), or 2 for a missing checkpoint or an OUT_DIR that is not new
# or empty. Run from the repository's root.
#   train/experiments/crops/gate.sh MODEL CHECKPOINT OUT_DIR
set -euo pipefail
[[ $# -eq 3 ]] || { echo "usage: $0 MODEL CHECKPOINT OUT_DIR" >&2; exit 2; }
[[ -f $2 ]] || { echo "$0: no checkpoint $2" >&2; exit 2; }
model=$1 checkpoint=$(realpath "$2") out=$3
# quiet_room.sh leaves its fifos and results behind: a reused directory would fail or mix two gates
[[ ! -e $out || -z $(ls -A "$out") ]] || { echo "$0: $out is not empty; give a new directory" >&2; exit 2; }
mkdir -p "$out"
printf '[scores]\ntop_k = 1\n\n[models.%s]\ncheckpoint = "%s"\n' "$model" "$checkpoint" > "$out/escd.toml"
# quiet_room.sh's default signals, the first half and the rest
mapfile -t signals < <(bench/quiet_room.sh --list-signals)
half=$(( (${#signals[@]} + 1) / 2 ))
halves=("${signals[*]:0:half}" "${signals[*]:half}")
pids=()
for i in 0 1; do
  bench/quiet_room.sh --hours 0.5 --models "$model" --config "$out/escd.toml" --out "$out/half$i" \
    --signals "${halves[$i]}" > "$out/half$i.log" 2>&1 &
  pids+=($!)
done
status=0
for i in 0 1; do
  wait "${pids[$i]}" || { rc=$?; (( rc > status )) && status=$rc; }
  sed -n '/^| signal/,$p' "$out/half$i.log"
done
if [[ ! -f $out/half0/quiet_room.json || ! -f $out/half1/quiet_room.json ]]; then
  echo "gate: a half did not finish (quiet_room.sh exit $status); see $out/half0.log and $out/half1.log" >&2
  exit "$status"
fi
/usr/bin/python3 - "$out" "${#signals[@]}" <<'PY'
import json, sys
out = sys.argv[1]
merged = {}
for i in (0, 1):
    with open(f"{out}/half{i}/quiet_room.json") as f:
        merged.update(json.load(f))
if len(merged) != int(sys.argv[2]):
    sys.exit(f"gate: {len(merged)} signals measured, {sys.argv[2]} expected")
with open(f"{out}/quiet_room.json.tmp", "w") as f:
    json.dump(merged, f, indent=1)
PY
mv "$out/quiet_room.json.tmp" "$out/quiet_room.json"
echo "gate: $( ((status == 0)) && echo passed || echo "FAILED (quiet_room.sh exit $status)" ); $out/quiet_room.json"
exit "$status"
