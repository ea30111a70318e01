#!/usr/bin/env bash
# Robustness table: every shipped model and their ensemble on fold 5 under room conditions
# (esc-train eval --condition, docs/ROOMS.md): microphone gain, noise at an SNR and colour,
# reverberation, and one combination. The same seeded perturbation for every model.
# Usage: bench/conditions.sh [--models "mamba liquid_s4 vjepa2"] [--fold 5] [--seed 0] [--build DIR]
#                            [--out FILE] [--threads N] [--conditions "clean gain=-20 ..."]
# Writes one JSON per condition (esc-train eval's, ensemble members included) under a temporary
# directory, the table as JSON to --out (default models/conditions.json) and prints it as Markdown:
# accuracy as escd answers, the 50 classes alone and the share called background (DECISION-22 in
# train/experiments/crops).
# Needs ESC-50 in $ESC50_DIR (default ../shared/esc50).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODELS="mamba liquid_s4 vjepa2"
FOLD=5
SEED=0
BUILD="$ROOT/build"
OUT="$ROOT/models/conditions.json"
THREADS=2
ONLY=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --models) MODELS="$2"; shift 2 ;;
    --fold) FOLD="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --build) BUILD="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --conditions) ONLY="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "conditions.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
ESC50="${ESC50_DIR:-$ROOT/../shared/esc50}"
TRAIN="$BUILD/bin/esc-train"
[[ -x "$TRAIN" ]] || { echo "conditions.sh: missing $TRAIN (scripts/build.sh)" >&2; exit 2; }
CHECKPOINTS=()
for m in $MODELS; do CHECKPOINTS+=(--checkpoint "$ROOT/models/$m.pt"); done
CONDITIONS=(clean gain=-40 gain=-30 gain=-20 gain=-10 gain=10 noise=pink@20 noise=pink@10 noise=white@10
            noise=brown@10 rt60=0.3 rt60=0.5 rt60=1.0 rt60=0.5,drr=-5 rt60=1,drr=-5
            rt60=0.5,noise=pink@20,gain=-20)
[[ -z "$ONLY" ]] || read -r -a CONDITIONS <<< "$ONLY"
WORK=$(mktemp -d /tmp/escd-conditions.XXXXXX)
for c in "${CONDITIONS[@]}"; do
  "$TRAIN" eval "${CHECKPOINTS[@]}" --data "$ESC50" --fold "$FOLD" --condition "$c" --condition-seed "$SEED" --threads "$THREADS" \
    --json "$WORK/$c.json" > "$WORK/$c.log" 2>&1 || { echo "conditions.sh: eval failed on $c:" >&2; tail "$WORK/$c.log" >&2; exit 1; }
  echo "  $c done"
done
/usr/bin/python3 - "$WORK" "$OUT" "$MODELS" "$FOLD" "$SEED" "${CONDITIONS[@]}" <<'PY'
import json, os, sys
work, out, models, fold, seed, conditions = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4], sys.argv[5], sys.argv[6:]
table = {"fold": int(fold), "condition_seed": int(seed), "models": models, "conditions": {}}
# Per model (and ensemble): "<name>" the accuracy as escd answers (a background top-1 is wrong), and with a
# background output "<name>_event_accuracy" (the 50 classes alone) and "<name>_called_background".
for c in conditions:
    r = json.load(open(os.path.join(work, c + ".json")))
    results = dict(zip(models, r["ensemble"])) if "ensemble" in r else {models[0]: r}
    if "ensemble" in r:
        results["ensemble"] = r
    row = {}
    for name, result in results.items():
        row[name] = result["accuracy"]
        for key in ("event_accuracy", "called_background"):
            if key in result:
                row[f"{name}_{key}"] = result[key]
    table["conditions"][c] = row
tmp = out + ".tmp"
json.dump(table, open(tmp, "w"), indent=1)
os.replace(tmp, out)
cols = models + (["ensemble"] if len(models) > 1 else [])
clean = table["conditions"].get("clean")
def print_table(title, suffix):
    print(f"\n{title}\n\n| condition (fold {fold}, seed {seed}) | " + " | ".join(cols) + " |")
    print("| --- |" + " --- |" * len(cols))
    for c, row in table["conditions"].items():
        cells = []
        for m in cols:
            key = m + suffix
            if key not in row:
                cells.append("-")
                continue
            delta = "" if c == "clean" or clean is None or key not in clean else f" ({100 * (row[key] - clean[key]):+.2f})"
            cells.append(f"{100 * row[key]:.2f}%{delta}")
        print(f"| {c} | " + " | ".join(cells) + " |")
print_table("Accuracy as escd answers (a background top-1 is wrong):", "")
print_table("The 50 classes alone (background kept out):", "_event_accuracy")
print_table("Share of clips called background:", "_called_background")
PY
rm -rf "$WORK"
