#!/usr/bin/env python3
"""The rule of DECISION-27 and DECISION-29: a candidate recipe replaces a baseline recipe, both
measured at their last epochs on fold 4 (last-epoch.fold4.json, written by last_epoch_robustness.py),
if its clean mean is at most 0.5 points under the baseline's, its white-noise drop at least 1.5 points
under, and its pink-noise and RT60 drops at most 0.5 points over.

  train/experiments/crops/last_epoch_rule.py "CANDIDATE RECIPE" "BASELINE RECIPE"

Prints each limit and whether it is met; exits 0 if the rule is met, 1 if not, 2 on bad input.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# (key, what it is, slack): the limit is the baseline's figure plus the slack
LIMITS = [("clean", "clean accuracy", -0.5), ("noise=white@10", "white-noise drop", -1.5),
          ("noise=pink@10", "pink-noise drop", 0.5), ("rt60=0.5", "RT60 drop", 0.5)]


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    with open(os.path.join(HERE, "last-epoch.fold4.json")) as f:
        recipes = json.load(f)["recipes"]
    missing = [r for r in sys.argv[1:] if r not in recipes]
    if missing:
        sys.exit(f"not in last-epoch.fold4.json: {', '.join(missing)} (it has: {', '.join(recipes)})")
    candidate, baseline = (recipes[r]["last_epoch"] for r in sys.argv[1:])
    met = True
    for key, name, slack in LIMITS:
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
