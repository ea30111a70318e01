#!/usr/bin/env python3
"""DECISION-16: how many clips each way of combining ensemble members gets right (standard library only).

  ensemble_rules.py --out RESULT.json SET:CONDITION=EVAL.json ...

Each EVAL.json is `esc-train eval` with several checkpoints and --per-clip: the members' per-clip
log-probabilities over the ensemble's classes, and the ensemble's own predictions (rule P, as escd
computed it when the decision was made: read, not computed again here). SET names a set of members
(e.g. best or last), CONDITION the room condition the clips were evaluated under.

The decision's evaluations were made by esc-train before commit 4cd413e. From that commit on, the
ensemble's own prediction is rule G (the decision was met), so with a newer esc-train column P repeats G.

Rules (DECISION-16.txt):
  P  the mean of probabilities, the background output judged apart (src/models/common/ensemble_mean.h)
  G  the mean of log-probabilities (a geometric mean, renormalised)
  V  a majority vote of the members' top-1, ties broken by P
"""
import argparse
import json
import os
import sys


def argmax(values):
    return max(range(len(values)), key=lambda i: values[i])


def rule_g(members):
    n = len(members)
    return [sum(m[c] for m in members) / n for c in range(len(members[0]))]


def rule_v(members, p_prediction):
    votes = {}
    for m in members:
        top = argmax(m)
        votes[top] = votes.get(top, 0) + 1
    best = max(votes.values())
    if best * 2 > len(members):
        return next(c for c, v in votes.items() if v == best)
    return p_prediction


def score(path):
    result = json.load(open(path))
    if "ensemble" not in result or "log_probabilities" not in result["ensemble"][0]:
        sys.exit(f"{path}: not an ensemble evaluated with --per-clip")
    members = [m["log_probabilities"] for m in result["ensemble"]]
    labels = result["labels"]
    right = {"P": 0, "G": 0, "V": 0}
    for i, label in enumerate(labels):
        rows = [m[i] for m in members]
        p = result["predictions"][i]
        predicted = {"P": p, "G": argmax(rule_g(rows)), "V": rule_v(rows, p)}
        for rule, c in predicted.items():
            right[rule] += c == label
    return {"clips": len(labels), "right": right,
            "members": [{"checkpoint": m["checkpoint"], "accuracy": m["accuracy"]} for m in result["ensemble"]]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("evals", nargs="+", help="SET:CONDITION=EVAL.json")
    parser.add_argument("--out", required=True, help="where to write the table as JSON")
    args = parser.parse_args()
    table = {}
    for item in args.evals:
        key, _, path = item.rpartition("=")  # conditions hold "=" (gain=-20), the file name does not
        member_set, _, condition = key.partition(":")
        if not path or not condition:
            sys.exit(f"{item}: expected SET:CONDITION=EVAL.json")
        table.setdefault(member_set, {})[condition] = score(path)
    with open(args.out + ".tmp", "w") as f:
        json.dump(table, f, indent=1)
    os.replace(args.out + ".tmp", args.out)
    for member_set, conditions in table.items():
        print(f"\n| {member_set}: condition | members right | P | G | V |")
        print("| --- | --- | --- | --- | --- |")
        for condition, s in conditions.items():
            members = " / ".join(str(round(m["accuracy"] * s["clips"])) for m in s["members"])
            r = s["right"]
            print(f"| {condition} | {members} | {r['P']} | {r['G']} | {r['V']} |")


if __name__ == "__main__":
    main()
