#!/usr/bin/env python3
"""Learning new sounds from a few clips (issue "Your own sounds"), measured on ESC-50 (standard library only).

  bench/few_shot.py [--model mamba] [--work DIR] [--shots 5,10,20] [--steps 200] [--threads 1]
                    [--base-epochs N] [--build DIR] [--out bench/results/few_shot.json]

ESC-50's classes are split into 40 "known" and the ten ESC-10 classes as "new" (the esc10 column of
meta/esc50.csv). The model is first trained on the 40 known classes with its recipe (folds 1-3,
validation fold 4; --base-epochs shortens it), through the CSV dataset reader as a user's own data
would be. Then for each k, k clips of every new class are drawn (seeded per k) from folds 1-4 and
the new classes are learnt three ways, each for the same number of optimiser steps (--steps,
batch 16, no validation, last epoch):
  transfer         fit --init <the 40-class model>            (backbone fine-tuned, new head)
  transfer_frozen  fit --init <the 40-class model> --freeze-backbone
  scratch          fit --model <model>                        (the recipe, from random weights)
and tested on all the new classes' fold-5 clips (80; one run's standard error is about 5 points).
Training times are wall minutes with --threads threads. Writes the table as JSON to --out and prints
it as Markdown. Every run directory stays under --work; a finished run is not redone (delete it to).
Needs ESC-50 in $ESC50_DIR (default ../shared/esc50).
"""
import argparse
import csv
import json
import math
import os
import random
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def esc50_rows(esc50):
    with open(os.path.join(esc50, "meta", "esc50.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        stem = os.path.splitext(r["filename"])[0]
        for ext in (".flac", ".wav"):
            path = os.path.join(esc50, "audio", stem + ext)
            if os.path.exists(path):
                r["path"] = path
                break
        else:
            sys.exit(f"few_shot.py: {r['filename']} has no audio under {esc50}/audio")
    return rows


def write_csv(path, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "label", "fold"])
        w.writerows(rows)
    os.replace(tmp, path)


def fit(train, work, name, extra, threads):
    """esc-train fit into work/name unless that run is already finished; its summary.json. Exits with
    the log's name when esc-train fails."""
    out = os.path.join(work, name)
    summary = os.path.join(out, "summary.json")
    if not os.path.exists(summary):
        args = [train, "fit", "--out", out, "--threads", str(threads)] + extra
        with open(out + ".log", "w") as log:
            code = subprocess.call(args, stdout=log, stderr=subprocess.STDOUT)
        if code != 0:
            sys.exit(f"few_shot.py: {' '.join(args)} failed ({code}); see {out}.log")
    with open(summary) as f:
        return json.load(f)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="mamba")
    p.add_argument("--work", default=os.path.join(ROOT, "runs", "few_shot"))
    p.add_argument("--shots", default="5,10,20")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--base-epochs", type=int, default=0, help="epochs of the 40-class base (0: the recipe's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "few_shot.json"))
    a = p.parse_args()
    esc50 = os.environ.get("ESC50_DIR", os.path.join(ROOT, "..", "shared", "esc50"))
    train = os.path.join(a.build, "bin", "esc-train")
    if not os.access(train, os.X_OK):
        sys.exit(f"few_shot.py: missing {train} (scripts/build.sh)")
    os.makedirs(a.work, exist_ok=True)
    rows = esc50_rows(esc50)
    known = [r for r in rows if r["esc10"] != "True"]
    new = [r for r in rows if r["esc10"] == "True"]
    new_classes = sorted({r["category"] for r in new})

    known_csv = os.path.join(a.work, "known40.csv")
    write_csv(known_csv, [(r["path"], r["category"], r["fold"]) for r in known])
    base_args = ["--model", a.model, "--data", known_csv]
    if a.base_epochs > 0:
        base_args += ["--epochs", str(a.base_epochs)]
    base = fit(train, a.work, f"{a.model}-known40", base_args, a.threads)
    base_ckpt = os.path.join(a.work, f"{a.model}-known40", "best.ckpt")

    table = []
    for k in [int(s) for s in a.shots.split(",")]:
        # Seeded per k: a row's clips do not depend on which other k were asked for (runs of
        # different --shots can share the work directory).
        rng = random.Random(f"{a.seed}-{k}")
        chosen = []
        for c in new_classes:
            pool = [r for r in new if r["category"] == c and r["fold"] != "5"]
            chosen += rng.sample(pool, k)
        test = [r for r in new if r["fold"] == "5"]
        data = os.path.join(a.work, f"new10_k{k}.csv")
        # The k clips are the training fold (1); fold 5 is the test. fit --refit: no validation fold.
        write_csv(data, [(r["path"], r["category"], 1) for r in chosen] + [(r["path"], r["category"], 5) for r in test])
        batches = max(1, len(chosen) // 16)
        epochs = math.ceil(a.steps / batches)
        common = ["--data", data, "--refit", "--epochs", str(epochs), "--set", "batch_size=16",
                  "--set", "warmup_epochs=" + str(max(1, epochs // 12))]
        ways = {
            "transfer": ["--init", base_ckpt] + common,
            "transfer_frozen": ["--init", base_ckpt, "--freeze-backbone"] + common,
            "scratch": ["--model", a.model] + common,
        }
        row = {"k": k, "train_clips": len(chosen), "test_clips": len(test), "epochs": epochs}
        for way, extra in ways.items():
            summary = fit(train, a.work, f"{a.model}-k{k}-{way}", extra, a.threads)
            row[way] = {"test_accuracy": summary["test_accuracy"],
                        "training_minutes": round(summary["training_wall_seconds"] / 60, 2)}
        table.append(row)
        print(json.dumps(row), flush=True)

    result = {
        "model": a.model,
        "known_classes": sorted({r["category"] for r in known}),
        "new_classes": new_classes,
        "base": {"epochs": base.get("epochs"), "val_accuracy": base["val_accuracy"],
                 "test_accuracy_known40": base["test_accuracy"],
                 "training_minutes": round(base["training_wall_seconds"] / 60, 2), "threads": a.threads,
                 "train_config": base.get("train_config")},
        "steps": a.steps,
        "seed": a.seed,
        "rows": table,
        "command": "bench/few_shot.py " + " ".join(
            x.replace(ROOT + "/", "") for x in sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1)
    os.replace(tmp, a.out)
    print(f"\n40-class {a.model}: val {base['val_accuracy']:.2%}, test {base['test_accuracy']:.2%} on the known classes\n")
    print("| k clips per new class | transfer | transfer, frozen backbone | from scratch | minutes (each) |")
    print("| --- | --- | --- | --- | --- |")
    for r in table:
        mins = "/".join(f"{r[w]['training_minutes']:.1f}" for w in ("transfer", "transfer_frozen", "scratch"))
        print(f"| {r['k']} | {r['transfer']['test_accuracy']:.1%} | {r['transfer_frozen']['test_accuracy']:.1%} | "
              f"{r['scratch']['test_accuracy']:.1%} | {mins} |")


if __name__ == "__main__":
    main()
