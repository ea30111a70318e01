#!/usr/bin/env bash
# A standard-split run's best.ckpt on fold 4, clean and under the four conditions every DECISION here
# judges (gain=-20, rt60=0.5, noise=pink@10, noise=white@10; condition seed 0), written as the
# committed <run>.fold4_conditions.json beside this script. Run from the repository's root; an eval
# already in RUN_DIR/fold4-evals is kept, so a stopped measurement continues.
#   train/experiments/crops/fold4_conditions.sh runs/<run> "DECISION-N: what the run is"
# ESC50_DIR: the dataset (default ../shared/esc50); ESC_TRAIN: the binary (default build/bin/esc-train).
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 RUN_DIR DESCRIPTION" >&2; exit 2; }
run=${1%/}
description=$2
[[ -f $run/best.ckpt ]] || { echo "$run: no best.ckpt" >&2; exit 1; }
source "$(dirname "${BASH_SOURCE[0]}")/fold4_eval.sh"
evals=$run/fold4-evals
mkdir -p "$evals"
for c in clean gain=-20 rt60=0.5 noise=pink@10 noise=white@10; do
  fold4_eval "$run/best.ckpt" "$c" "$evals/$c.json"
done
out="$(dirname "${BASH_SOURCE[0]}")/$(basename "$run").fold4_conditions.json"
/usr/bin/python3 - "$(dirname "${BASH_SOURCE[0]}")" "$evals" "$(basename "$run")" "$description" "$out" <<'PY'
import json, os, sys
here, evals, run, description, out = sys.argv[1:]
sys.path.insert(0, here)
from fold4_eval_file import read_fold4_eval
conditions = ["clean", "gain=-20", "rt60=0.5", "noise=pink@10", "noise=white@10"]
measured = {}
for c in conditions:
    try:
        measured[c] = read_fold4_eval(os.path.join(evals, c + ".json"), c, checkpoint=f"{run}/best.ckpt")
    except ValueError as e:
        sys.exit(str(e))
result = {"checkpoint": description, "fold": 4, "condition_seed": 0}
for key in ["accuracy", "event_accuracy", "called_background"]:
    result[key] = {c: measured[c][key] for c in conditions}
result["command"] = f"esc-train eval --checkpoint runs/{run}/best.ckpt --fold 4 --condition <c> --threads 1"
with open(out + ".tmp", "w") as f:
    json.dump(result, f, indent=1)
os.replace(out + ".tmp", out)
print(out)
PY
