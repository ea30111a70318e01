#!/usr/bin/env python3
"""Copies a finished esc-train run into models/ as a shipped model (standard library only).

  scripts/ship_model.py RUN_DIR NAME [--validated-by RECIPE_RUN_DIR | models/NAME.json]

models/NAME.pt            RUN_DIR/best.ckpt (escd and esc-train load it like any checkpoint)
models/NAME.json          RUN_DIR/summary.json: val/test accuracy, parameters, wall time, machine, command
models/NAME.metrics.jsonl RUN_DIR/metrics.jsonl
models/NAME.final.json    RUN_DIR/final.json (confusion matrices)

A run made with `fit --refit` trained on its validation fold and has no validation accuracy of its
own: it ships only with --validated-by, the standard-split run of the same recipe whose validation
chose it; that run's accuracies and command are recorded in NAME.json as "validated_by".
Every file is written to a temporary name first and renamed, so a crash leaves no half-shipped model.
"""
import argparse
import json
import os
import shutil
import sys

RUN_FILES = ["best.ckpt", "summary.json", "metrics.jsonl", "final.json"]


def copy_atomic(src, dst):
    tmp = dst + ".tmp"
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def write_atomic(text, dst):
    tmp = dst + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, dst)


def read_summary(run, needed):
    missing = [f for f in needed if not os.path.isfile(os.path.join(run, f))]
    if missing:
        sys.exit(f"{run}: not a finished run (missing {', '.join(missing)})")
    with open(os.path.join(run, "summary.json")) as f:
        return json.load(f)


def recipe_record(run, refit):
    """What the refit's recipe was validated by: the standard-split run of the same recipe."""
    if os.path.isfile(run):  # a shipped model's NAME.json (a copy of its run's summary.json)
        with open(run) as f:
            summary = json.load(f)
    else:
        summary = read_summary(run, ["summary.json"])
    if summary.get("val_accuracy") is None:
        sys.exit(f"--validated-by {run}: that run has no validation accuracy either")
    for key in ("model", "hyperparameters", "epochs"):
        if summary.get(key) != refit.get(key):
            sys.exit(f"--validated-by {run}: its {key} ({summary.get(key)}) differs from the refit's "
                     f"({refit.get(key)}): it did not validate this recipe")
    keep = ["val_accuracy", "test_accuracy", "val_folds", "test_folds", "best_epoch", "epochs",
            "training_wall_seconds", "command", "date", "git_revision", "note"]
    return {k: summary[k] for k in keep if k in summary}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run")
    parser.add_argument("name")
    parser.add_argument("--validated-by", metavar="RECIPE_RUN_DIR",
                        help="the standard-split run (or its shipped NAME.json) that validated a refit's recipe")
    args = parser.parse_args()
    models = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models")
    summary = read_summary(args.run, RUN_FILES)
    refit = summary.get("val_accuracy") is None
    if refit and not args.validated_by:
        sys.exit(f"{args.run}: a run without a validation fold (fit --refit) ships only with --validated-by "
                 "RECIPE_RUN_DIR, the standard-split run whose validation chose its recipe")
    if args.validated_by:
        if not refit:
            sys.exit(f"{args.run}: --validated-by is for refit runs; this one was validated itself")
        summary["validated_by"] = recipe_record(args.validated_by, summary)
    copy_atomic(os.path.join(args.run, "best.ckpt"), os.path.join(models, args.name + ".pt"))
    write_atomic(json.dumps(summary, indent=1) + "\n", os.path.join(models, args.name + ".json"))
    copy_atomic(os.path.join(args.run, "metrics.jsonl"), os.path.join(models, args.name + ".metrics.jsonl"))
    copy_atomic(os.path.join(args.run, "final.json"), os.path.join(models, args.name + ".final.json"))
    val = f"{summary['val_accuracy']:.4f}" if not refit else \
        f"none (refit; recipe validated at {summary['validated_by']['val_accuracy']:.4f})"
    print(f"shipped {args.name}: val {val} test {summary['test_accuracy']:.4f} "
          f"({summary['parameters']} parameters, {summary['training_wall_seconds'] / 60:.1f} min)")


if __name__ == "__main__":
    main()
