#!/usr/bin/env python3
"""Copies a finished esc-train run into models/ as a shipped model (standard library only).

  scripts/ship_model.py RUN_DIR NAME

models/NAME.pt            RUN_DIR/best.ckpt (escd and esc-train load it like any checkpoint)
models/NAME.json          RUN_DIR/summary.json: val/test accuracy, parameters, wall time, machine, command
models/NAME.metrics.jsonl RUN_DIR/metrics.jsonl
models/NAME.final.json    RUN_DIR/final.json (confusion matrices)
Every file is written to a temporary name first and renamed, so a crash leaves no half-shipped model.
"""
import json
import os
import shutil
import sys


def copy_atomic(src, dst):
    tmp = dst + ".tmp"
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    run, name = sys.argv[1], sys.argv[2]
    models = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models")
    needed = ["best.ckpt", "summary.json", "metrics.jsonl", "final.json"]
    missing = [f for f in needed if not os.path.isfile(os.path.join(run, f))]
    if missing:
        sys.exit(f"{run}: not a finished run (missing {', '.join(missing)})")
    with open(os.path.join(run, "summary.json")) as f:
        summary = json.load(f)
    copy_atomic(os.path.join(run, "best.ckpt"), os.path.join(models, name + ".pt"))
    copy_atomic(os.path.join(run, "summary.json"), os.path.join(models, name + ".json"))
    copy_atomic(os.path.join(run, "metrics.jsonl"), os.path.join(models, name + ".metrics.jsonl"))
    copy_atomic(os.path.join(run, "final.json"), os.path.join(models, name + ".final.json"))
    val = summary["val_accuracy"]  # null for fit --refit, which trains on the validation fold
    val = "none (refit)" if val is None else f"{val:.4f}"
    print(f"shipped {name}: val {val} test {summary['test_accuracy']:.4f} "
          f"({summary['parameters']} parameters, {summary['training_wall_seconds'] / 60:.1f} min)")


if __name__ == "__main__":
    main()
