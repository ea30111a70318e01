#!/usr/bin/env python3
"""A rule over two recipes measured at their last epochs on fold 4 (last-epoch.fold4.json, written
by last_epoch_robustness.py): each limit is the baseline's figure plus a slack; the candidate's clean
accuracy must reach its limit, its drops must stay at or under theirs. Without --limit, the limits of
DECISION-27 and DECISION-29: clean at most 0.5 points under the baseline's, the white-noise drop at
least 1.5 points under, the pink-noise and RT60 drops at most 0.5 points over. With --limit, only
the limits given are checked (DECISION-31: --limit clean=1.0 on its fresh seeds, then the three drops'
limits at +0.5 on all six seeds).

  train/experiments/crops/last_epoch_rule.py "CANDIDATE RECIPE" "BASELINE RECIPE" [--limit KEY=SLACK ...]
      [--fifty-classes] [--table last-epoch.fold4.json]

With --fifty-classes the drops are read over the 50 classes alone (the table's last_epoch_50_classes,
background calls aside, as the rooms limits are read; DECISION-42 on), the clean accuracy still over
every output, as escd answers.

KEY is clean, gain=-20, noise=white@10, noise=pink@10 or rt60=0.5 (gain=-20 only for rows measured
since DECISION-34). Prints each limit and whether it is met;
exits 0 if the rule is met, 1 if not, 2 on bad input.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
NAMES = {"clean": "clean accuracy", "gain=-20": "gain drop", "noise=white@10": "white-noise drop",
         "noise=pink@10": "pink-noise drop", "rt60=0.5": "RT60 drop"}
# (key, slack): each limit is the baseline's figure plus its slack
DEFAULT_LIMITS = [("clean", -0.5), ("noise=white@10", -1.5), ("noise=pink@10", 0.5), ("rt60=0.5", 0.5)]


def parse_limit(text):
    key, _, slack = text.rpartition("=")  # keys hold "=" (rt60=0.5), the slack does not
    if key not in NAMES:
        raise argparse.ArgumentTypeError(f"{text}: KEY must be one of {', '.join(NAMES)}")
    try:
        return key, float(slack)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text}: SLACK must be a number of points")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("candidate")
    parser.add_argument("baseline")
    parser.add_argument("--limit", type=parse_limit, action="append", help="KEY=SLACK (repeat)")
    parser.add_argument("--fifty-classes", action="store_true", help="the drops over the 50 classes alone")
    parser.add_argument("--table", default=os.path.join(HERE, "last-epoch.fold4.json"),
                        help="the table last_epoch_robustness.py wrote (default: the committed one)")
    args = parser.parse_args()
    try:
        with open(args.table) as f:
            recipes = json.load(f)["recipes"]
    except (OSError, ValueError, KeyError) as e:
        print(f"{args.table}: {e!r} (last_epoch_robustness.py writes it)", file=sys.stderr)
        sys.exit(2)
    missing = [r for r in (args.candidate, args.baseline) if r not in recipes]
    if missing:
        print(f"not in {args.table}: {', '.join(missing)} (it has: {', '.join(recipes)})", file=sys.stderr)
        sys.exit(2)
    # a recipe holds only the seeds whose evals were all found: say how many each rule saw
    print(f"seeds: candidate {recipes[args.candidate]['seeds']}, baseline {recipes[args.baseline]['seeds']}")
    candidate, baseline = (recipes[r]["last_epoch"] for r in (args.candidate, args.baseline))
    if args.fifty_classes:
        without = [r for r in (args.candidate, args.baseline) if "last_epoch_50_classes" not in recipes[r]]
        if without:
            print(f"not measured over the 50 classes: {', '.join(without)} (rerun last_epoch_robustness.py "
                  "with their runs' evals)", file=sys.stderr)
            sys.exit(2)
        print("drops over the 50 classes alone; clean accuracy over every output")
        candidate, baseline = ({**recipes[r]["last_epoch_50_classes"], "clean": row["clean"]}
                               for r, row in ((args.candidate, candidate), (args.baseline, baseline)))
    limits = args.limit or DEFAULT_LIMITS
    # rows measured before DECISION-34 have no gain=-20
    unmeasured = [f"{r}: {k}" for r, row in ((args.candidate, candidate), (args.baseline, baseline))
                  for k, _ in limits if k not in row]
    if unmeasured:
        print(f"not measured at the last epoch: {', '.join(unmeasured)}", file=sys.stderr)
        sys.exit(2)
    met = True
    for key, slack in limits:
        name = NAMES[key]
        limit = baseline[key] + slack
        # accuracy must stay above its limit, a drop below its limit
        ok = candidate[key] >= limit - 1e-9 if key == "clean" else candidate[key] <= limit + 1e-9
        relation = ">=" if key == "clean" else "<="
        print(f"{name}: {candidate[key]:.4f} {relation} {limit:.4f} (baseline {baseline[key]:.4f}): {'met' if ok else 'NOT met'}")
        met = met and ok
    print("RULE MET" if met else "RULE NOT MET")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
