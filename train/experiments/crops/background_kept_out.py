#!/usr/bin/env python3
"""DECISION-22: each model's accuracy with a background top-1 counted wrong, beside the 50-class
accuracy with the background output kept out, per room condition (standard library only).

  background_kept_out.py --out RESULT.json CONDITION=EVAL.json ...

Each EVAL.json is `esc-train eval` with several checkpoints and --per-clip on the same clips (the
members' per-clip log-probabilities over the ensemble's classes and the ensemble's own), e.g.
  esc-train eval --checkpoint A --checkpoint B --checkpoint C --fold 4 --condition noise=pink@10 --per-clip --json F
The figures are recomputed from the log-probabilities, so they need no newer esc-train.
"""
import argparse
import json


def scores(log_probabilities, labels, background):
    """(accuracy as escd answers, accuracy over the event classes alone, share called background)."""
    right = right_event = called = 0
    for row, label in zip(log_probabilities, labels):
        top = max(range(len(row)), key=row.__getitem__)
        event = max((c for c in range(len(row)) if c != background), key=row.__getitem__)
        right += top == label
        right_event += event == label
        called += top == background
    n = len(labels)
    return right / n, right_event / n, called / n


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("evals", nargs="+", metavar="CONDITION=EVAL.json")
    args = parser.parse_args()
    table = {}
    for spec in args.evals:
        condition, path = spec.rsplit("=", 1)
        ev = json.load(open(path))
        background = ev["class_names"].index("background")
        rows = {m["checkpoint"]: m["log_probabilities"] for m in ev["ensemble"]}
        rows["ensemble"] = ev["log_probabilities"]
        table[condition] = {}
        for name, lp in rows.items():
            accuracy, event_accuracy, called = scores(lp, ev["labels"], background)
            table[condition][name] = {"accuracy": accuracy, "event_accuracy": event_accuracy,
                                      "called_background": called}
    with open(args.out, "w") as f:
        json.dump(table, f, indent=1)
    clean = table.get("clean")
    for condition, row in table.items():
        for name, r in row.items():
            drop = "" if clean is None or condition == "clean" else (
                f"  drops {100 * (clean[name]['accuracy'] - r['accuracy']):.2f} / "
                f"{100 * (clean[name]['event_accuracy'] - r['event_accuracy']):.2f}")
            print(f"{condition:16s} {name:40s} {100 * r['accuracy']:6.2f} {100 * r['event_accuracy']:6.2f} "
                  f"called background {100 * r['called_background']:5.2f}{drop}")


if __name__ == "__main__":
    main()
