#!/usr/bin/python3
"""The fold-4 rule tools of train/experiments/crops on made-up evaluations: last_epoch_robustness.py
averages each recipe's last-epoch drops under both measures (every output, and the 50 classes alone),
and last_epoch_rule.py --fifty-classes judges the drops over the 50 classes while the clean accuracy
stays over every output. The made-up numbers are chosen so that the two measures give opposite
verdicts: a tool that read the wrong one fails here.

  tests/crops_rule_tools.py SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

CONDITIONS = ["clean", "gain=-20", "noise=pink@10", "noise=white@10", "rt60=0.5"]
CANDIDATE = "V-JEPA2 400 epochs, white noise in 30% of the rows (DECISION-40)"
BASELINE = "V-JEPA2 400 epochs (DECISION-34)"
# run -> condition -> (accuracy over every output, over the 50 classes alone), fold 4
EVALS = {
    # the candidate: white noise costs 6 points over every output but 3 over the 50 classes
    # (half its noisy clips called background)
    "vjepa2-white40-s0": {"clean": (0.80, 0.80), "gain=-20": (0.80, 0.80), "noise=pink@10": (0.78, 0.79),
                          "noise=white@10": (0.74, 0.77), "rt60=0.5": (0.76, 0.76)},
    "vjepa2-white40-s1": {"clean": (0.82, 0.82), "gain=-20": (0.81, 0.81), "noise=pink@10": (0.80, 0.81),
                          "noise=white@10": (0.76, 0.79), "rt60=0.5": (0.78, 0.78)},
    # the baseline: white noise costs 5 points under both measures
    "vjepa2-ep34-s0": {"clean": (0.80, 0.80), "gain=-20": (0.80, 0.80), "noise=pink@10": (0.78, 0.78),
                       "noise=white@10": (0.75, 0.75), "rt60=0.5": (0.77, 0.77)},
    "vjepa2-ep34-s1": {"clean": (0.80, 0.80), "gain=-20": (0.80, 0.80), "noise=pink@10": (0.78, 0.78),
                       "noise=white@10": (0.75, 0.75), "rt60=0.5": (0.77, 0.77)},
}
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def run(args):
    return subprocess.run([sys.executable] + args, capture_output=True, text=True)


def main():
    crops = os.path.join(sys.argv[1], "train", "experiments", "crops")
    with tempfile.TemporaryDirectory() as tmp:
        for name, conditions in EVALS.items():
            for condition, (accuracy, event_accuracy) in conditions.items():
                ev = {"folds": [4], "checkpoint": f"runs/{name}/last.ckpt", "condition": condition,
                      "condition_seed": 0, "accuracy": accuracy, "event_accuracy": event_accuracy}
                with open(os.path.join(tmp, f"last.{name}.{condition}.json"), "w") as f:
                    json.dump(ev, f)
        table = run([os.path.join(crops, "last_epoch_robustness.py"), tmp])
        check(table.returncode == 0, f"last_epoch_robustness.py failed: {table.stderr}")
        table_path = os.path.join(tmp, "table.json")
        with open(table_path, "w") as f:
            f.write(table.stdout)
        recipes = json.loads(table.stdout)["recipes"]
        check({CANDIDATE, BASELINE} <= set(recipes), f"recipes measured: {sorted(recipes)}")
        every, fifty = recipes[CANDIDATE]["last_epoch"], recipes[CANDIDATE]["last_epoch_50_classes"]
        check(abs(every["noise=white@10"] - 6.0) < 1e-9, f"white drop over every output {every['noise=white@10']}, expected 6.0")
        check(abs(fifty["noise=white@10"] - 3.0) < 1e-9, f"white drop over the 50 classes {fifty['noise=white@10']}, expected 3.0")
        check(abs(fifty["noise=pink@10"] - 1.0) < 1e-9, f"pink drop over the 50 classes {fifty['noise=pink@10']}, expected 1.0")
        check(abs(every["clean"] - 81.0) < 1e-9, f"clean {every['clean']}, expected 81.0")

        rule = [os.path.join(crops, "last_epoch_rule.py"), CANDIDATE, BASELINE, "--table", table_path,
                "--limit", "clean=-1.0", "--limit", "noise=white@10=-1.0"]
        over_every_output = run(rule)
        check(over_every_output.returncode == 1,
              f"over every output the white drop 6.0 > 4.0 must fail the rule: {over_every_output.stdout}")
        over_fifty = run(rule + ["--fifty-classes"])
        check(over_fifty.returncode == 0, f"over the 50 classes the white drop 3.0 <= 4.0 must pass: {over_fifty.stdout}")
        check("clean accuracy: 81.0000 >= 79.0000" in over_fifty.stdout,
              f"the clean accuracy must stay over every output: {over_fifty.stdout}")

        # a table without the 50-class rows (written before them) is refused, not read as the other measure
        for recipe in recipes.values():
            recipe.pop("last_epoch_50_classes")
        with open(table_path, "w") as f:
            json.dump({"recipes": recipes}, f)
        old_table = run(rule + ["--fifty-classes"])
        check(old_table.returncode == 2 and "not measured over the 50 classes" in old_table.stderr,
              f"a table without 50-class rows must be refused: {old_table.returncode} {old_table.stderr}")
    for failure in failures:
        print("FAIL:", failure)
    print("all checks passed" if not failures else f"{len(failures)} check(s) failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
