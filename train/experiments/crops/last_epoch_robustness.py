#!/usr/bin/env python3
"""Fold-4 room drops of the standard-split runs at their best epoch (what the DECISION rules judged)
and at their last epoch (what a refit ships: `fit --refit` keeps the last epoch's averaged weights).

  train/experiments/crops/last_epoch_robustness.py EVAL_DIR [--previous last-epoch.fold4.json] > NEW.json

(train/experiments/crops/last_epoch_evals.sh writes EVAL_DIR.) The evals are not committed, so a new
machine has only the new runs' evals: with --previous, a recipe none of whose runs has evals in EVAL_DIR
keeps its entry from that file (the committed table), and says so on stderr; a recipe with some of its
runs measured is recomputed from those alone. Write to a new file and move it over the committed one:
redirecting straight onto the --previous file empties it before it is read.

EVAL_DIR holds `last.<run>.<condition>.json`, each `esc-train eval --checkpoint runs/<run>/last.ckpt
--fold 4 [--condition C] --threads 1 --json ...` (condition seed 0). The best epoch's figures come from
the committed `<run>.fold4_conditions.json` files beside this script (named as the run). Prints,
per recipe, the mean over its seeds of the clean accuracy and of each condition's drop, at both epochs,
and at the last epoch also over the 50 classes alone (`last_epoch_50_classes`: each eval's
`event_accuracy`, background calls aside, the measure of the rooms limits on fold 5). Entries kept
from --previous that were written before that measure, and recipes with a run whose evals lack it,
have no such row.
"""
import argparse
import json
import os
import sys

from fold4_eval_file import read_fold4_eval

HERE = os.path.dirname(os.path.abspath(__file__))
# gain=-20 since DECISION-34: rows kept from --previous that were measured before it have no such key
CONDITIONS = ["gain=-20", "noise=pink@10", "noise=white@10", "rt60=0.5"]
# an eval's two measures: every output counted (a clip called background is an error, as escd
# answers), and the 50 classes alone (the best of the 50, as the rooms limits are read since DECISION-22)
MEASURES = ["accuracy", "event_accuracy"]
LIQUID_CONSISTENCY_FIRST = ["liquid_s4-cons17-s0", "liquid_s4-cons17-s1", "liquid_s4-cons18-s2", "liquid_s4-cons18-s3"]
LIQUID_CONSISTENCY_FRESH = ["liquid_s4-cons31-s4", "liquid_s4-cons31-s5"]
# recipe -> its runs: each run's directory name, which is also its committed best-epoch file's
RECIPES = {
    "Mamba crop recipe (seed 1)": ["mamba-crop-s1"],
    "Mamba shipped recipe (DECISION-29)": ["mamba-base29-s0", "mamba-base29-s1"],
    "Mamba consistency (DECISION-26/28)": [f"mamba-cons26-s{s}" for s in range(4)],
    "Liquid-S4 shipped recipe (DECISION-27)": ["liquid_s4-base27-s0", "liquid_s4-base27-s1"],
    "Liquid-S4 100 epochs (DECISION-32)": ["liquid_s4-ep32-s0", "liquid_s4-ep32-s1"],
    "Liquid-S4 220 epochs (DECISION-33)": ["liquid_s4-ep33-s0", "liquid_s4-ep33-s1"],
    "Liquid-S4 noise 0.75 (DECISION-15)": ["liquid_s4-crop15-s0", "liquid_s4-crop15-s1"],
    "Liquid-S4 consistency (DECISION-17/18)": LIQUID_CONSISTENCY_FIRST,
    "Liquid-S4 consistency, seeds 4 and 5 (DECISION-31)": LIQUID_CONSISTENCY_FRESH,
    "Liquid-S4 consistency, six seeds (DECISION-17/18/31)": LIQUID_CONSISTENCY_FIRST + LIQUID_CONSISTENCY_FRESH,
    "Liquid-S4 SNR -5..20 (DECISION-19)": ["liquid_s4-snr19-s0", "liquid_s4-snr19-s1"],
    "Liquid-S4 distilled (DECISION-20)": ["liquid_s4-dist20-s0", "liquid_s4-dist20-s1"],
    "Liquid-S4 between-class mixing (DECISION-21)": ["liquid_s4-bc21-s0", "liquid_s4-bc21-s1"],
    "Liquid-S4 wide (DECISION-23 to 25)": [f"liquid_s4-wide23-s{s}" for s in range(4)],
    "V-JEPA2 400 epochs (DECISION-34)": ["vjepa2-ep34-s0", "vjepa2-ep34-s1"],
    "Mamba 240 epochs (DECISION-35)": ["mamba-ep35-s0", "mamba-ep35-s1"],
    "V-JEPA2 400 epochs, noise 0.7 (DECISION-37)": ["vjepa2-noise37-s0", "vjepa2-noise37-s1"],
    "Liquid-S4 room-free distillation (DECISION-38)": ["liquid_s4-rfd38-s0", "liquid_s4-rfd38-s1"],
    "Liquid-S4 room-free distillation, seeds 2 and 3 (DECISION-39)": ["liquid_s4-rfd38-s2", "liquid_s4-rfd38-s3"],
    "Liquid-S4 room-free distillation, four seeds (DECISION-38/39)": [f"liquid_s4-rfd38-s{s}" for s in range(4)],
    "V-JEPA2 400 epochs, white noise in 30% of the rows (DECISION-40)": ["vjepa2-white40-s0", "vjepa2-white40-s1"],
    "Liquid-S4 room-free distillation, white noise in 30% of the rows (DECISION-41)": ["liquid_s4-white41-s0", "liquid_s4-white41-s1"],
    "V-JEPA2 400 epochs, white noise in 30% of the rows, seeds 2 and 3 (DECISION-42)": ["vjepa2-white40-s2", "vjepa2-white40-s3"],
    "V-JEPA2 400 epochs, white noise in 30% of the rows, four seeds (DECISION-40/42)": [f"vjepa2-white40-s{s}" for s in range(4)],
    "Liquid-S4 room-free distillation, white and pink noise in 20% of the rows each, four seeds (DECISION-43)": [f"liquid_s4-wp43-s{s}" for s in range(4)],
}


def read_json(path):
    with open(path) as f:
        return json.load(f)


def last_epoch(eval_dir, run):
    """The run's last-epoch accuracies, {measure: {condition: accuracy}}, or None when an eval is
    missing; an eval of another fold, condition seed or checkpoint than the file's name says is an
    error (a stale file). The 50-class measure is None when an eval lacks it (esc-train writes it for
    models with a background output, since DECISION-22)."""
    evals = {}
    for c in ["clean"] + CONDITIONS:
        path = os.path.join(eval_dir, f"last.{run}.{c}.json")
        if not os.path.isfile(path):
            return None
        try:
            evals[c] = read_fold4_eval(path, c, checkpoint=f"{run}/last.ckpt")
        except ValueError as e:
            sys.exit(str(e))
    out = {measure: {c: ev[measure] for c, ev in evals.items()}
           if all(measure in ev for ev in evals.values()) else None for measure in MEASURES}
    if out["accuracy"] is None:
        sys.exit(f"{eval_dir}: an eval of {run} has no accuracy")
    return out


def summary(rows):
    n = len(rows)
    out = {"clean": 100 * sum(r["clean"] for r in rows) / n}
    for c in CONDITIONS:
        out[c] = 100 * sum(r["clean"] - r[c] for r in rows) / n
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("eval_dir", help="the directory of last.<run>.<condition>.json")
    parser.add_argument("--previous", help="a table this script wrote before; its recipes fill those not measured")
    args = parser.parse_args()
    if not os.path.isdir(args.eval_dir):
        sys.exit(f"{args.eval_dir}: not a directory")
    eval_dir = args.eval_dir
    previous = {}
    if args.previous:
        try:
            previous = read_json(args.previous)["recipes"]
        except (OSError, ValueError, KeyError) as e:
            sys.exit(f"{args.previous}: {e!r} (a table written by this script)")
    result = {"fold": 4, "condition_seed": 0, "columns": "clean accuracy, then drops from clean (points)",
              "recipes": {}}
    print("| recipe (seeds) | epoch | clean | gain -20 dB | pink 10 dB | white 10 dB | RT60 0.5 s |", file=sys.stderr)
    print("| --- | --- | --- | --- | --- | --- | --- |", file=sys.stderr)
    for recipe, runs in RECIPES.items():
        best, last, last_50, measured_runs = [], [], [], []
        for run in runs:
            measured = last_epoch(eval_dir, run)
            if measured is None:
                print(f"skipped {run}: its last-epoch evals are not all in {eval_dir}", file=sys.stderr)
                continue
            last.append(measured["accuracy"])
            last_50.append(measured["event_accuracy"])  # None: that run has no 50-class measure
            measured_runs.append(run)
            best.append(read_json(os.path.join(HERE, run + ".fold4_conditions.json"))["accuracy"])
        if not last:
            if recipe in previous:
                print(f"kept {recipe} from {args.previous}: none of its runs has evals in {eval_dir}", file=sys.stderr)
                result["recipes"][recipe] = previous[recipe]
            continue
        entry = {"seeds": len(last), "best_epoch": summary(best), "last_epoch": summary(last)}
        if None not in last_50:  # the 50-class row only when every measured run has it
            entry["last_epoch_50_classes"] = summary(last_50)
        entry["runs"] = measured_runs
        result["recipes"][recipe] = entry
        rows = [("best", entry["best_epoch"]), ("last", entry["last_epoch"])]
        if "last_epoch_50_classes" in entry:
            rows.append(("last, 50 classes", entry["last_epoch_50_classes"]))
        for name, s in rows:
            print(f"| {recipe} ({len(last)}) | {name} | {s['clean']:.3f} | "
                  + " | ".join(f"{-s[c]:.3f}" for c in CONDITIONS) + " |", file=sys.stderr)
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
