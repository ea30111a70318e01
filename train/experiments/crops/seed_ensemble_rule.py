#!/usr/bin/env python3
"""DECISION-30: is an ensemble with more members right more often than the ensembles it extends?

  seed_ensemble_rule.py --candidate 0,1,2,3,4 --baseline 0,2,4 --baseline 1,3,4 \
      --out RESULT.json CONDITION=EVAL.json ...

Each EVAL.json is one `esc-train eval` of the same checkpoints with --per-clip (the members'
per-clip log-probabilities); the first CONDITION must be `clean`. A member set is a list of indices
into those checkpoints; every set is combined by escd's rule G (ensemble_rules.rule_g) and scored
as escd answers (top-1 over all outputs; background is wrong). The rule (DECISION-30.txt): the
candidate is met if, clean, it is right on at least --min-gain more clips than the baselines' mean,
and its mean over the other conditions is not below theirs. Exit 0 met, 1 not met, 2 bad input.
"""
import argparse
import json
import os
import sys

from ensemble_rules import argmax, rule_g
from fold4_eval_file import read_fold4_eval


def fail(message):
    """Bad input: exit 2, apart from 1 (not met)."""
    print(f"seed_ensemble_rule.py: {message}", file=sys.stderr)
    sys.exit(2)


def right(result, members):
    labels = result["labels"]
    rows = [result["ensemble"][m]["log_probabilities"] for m in members]
    return sum(argmax(rule_g([r[i] for r in rows])) == label for i, label in enumerate(labels))


def member_set(text):
    try:
        members = [int(i) for i in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text}: expected comma-separated member indices")
    if len(set(members)) != len(members):
        raise argparse.ArgumentTypeError(f"{text}: a member appears twice")
    return members


def load(item, checkpoints):
    condition, _, path = item.rpartition("=")  # conditions hold "=" (gain=-20), the file name does not
    if not condition:
        fail(f"{item}: expected CONDITION=EVAL.json")
    try:
        result = read_fold4_eval(path, condition)
    except OSError as e:
        fail(f"{path}: {e}")
    except ValueError as e:  # unreadable JSON, or not the evaluation its label says
        fail(str(e))
    members = result.get("ensemble", [])
    if not members or any("log_probabilities" not in m or "checkpoint" not in m for m in members) \
            or "labels" not in result:
        fail(f"{path}: not an ensemble evaluated with --per-clip")
    names = [m["checkpoint"] for m in members]
    if checkpoints and names != checkpoints:
        fail(f"{path}: members {names} differ from the first evaluation's {checkpoints}")
    return condition, result, names


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("evals", nargs="+", help="CONDITION=EVAL.json, clean first")
    parser.add_argument("--candidate", type=member_set, required=True)
    parser.add_argument("--baseline", type=member_set, action="append", required=True)
    parser.add_argument("--min-gain", type=float, default=4, help="clips the candidate must gain, clean")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    checkpoints, table = [], {}
    for item in args.evals:
        condition, result, checkpoints = load(item, checkpoints)
        for s in [args.candidate] + args.baseline:
            if max(s) >= len(checkpoints) or min(s) < 0:
                fail(f"member set {s}: the evaluations have {len(checkpoints)} members")
        table[condition] = {"clips": len(result["labels"]),
                            "candidate": right(result, args.candidate),
                            "baselines": [right(result, b) for b in args.baseline]}
    if next(iter(table)) != "clean":
        fail("the first evaluation must be CONDITION clean")

    def baseline_mean(c):
        return sum(table[c]["baselines"]) / len(args.baseline)

    others = [c for c in table if c != "clean"]
    if not others:
        fail("the rule needs the room conditions beside clean")
    clean_gain = table["clean"]["candidate"] - baseline_mean("clean")
    conditions_gain = sum(table[c]["candidate"] - baseline_mean(c) for c in others) / len(others)
    met = clean_gain >= args.min_gain and conditions_gain >= 0
    verdict = {"checkpoints": checkpoints, "candidate": args.candidate, "baselines": args.baseline,
               "rule": "ensemble_rules.rule_g", "table": table, "clean_gain_clips": clean_gain,
               "conditions_mean_gain_clips": conditions_gain, "min_gain_clips": args.min_gain, "met": met}
    with open(args.out + ".tmp", "w") as f:
        json.dump(verdict, f, indent=1)
    os.replace(args.out + ".tmp", args.out)

    print("| condition | candidate | " + " | ".join(f"baseline {b}" for b in args.baseline) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in args.baseline) + " |")
    for c, row in table.items():
        n = row["clips"]
        cells = [f"{100 * row['candidate'] / n:.2f}%"] + [f"{100 * r / n:.2f}%" for r in row["baselines"]]
        print(f"| {c} | " + " | ".join(cells) + " |")
    print(f"\nclean: {clean_gain:+.1f} clips (asked >= {args.min_gain:g}); "
          f"conditions' mean: {conditions_gain:+.2f} clips (asked >= 0): {'met' if met else 'not met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
