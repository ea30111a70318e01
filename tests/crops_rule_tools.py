#!/usr/bin/python3
"""The fold-4 rule tools of train/experiments/crops on made-up evaluations: last_epoch_robustness.py
averages each recipe's last-epoch drops under both measures (every output, and the 50 classes alone),
and last_epoch_rule.py --fifty-classes judges the drops over the 50 classes while the clean accuracy
stays over every output. The made-up numbers differ between the two measures in every condition and
give opposite verdicts on white noise: a tool that read the wrong one anywhere fails here.

  tests/crops_rule_tools.py SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

CANDIDATE = "V-JEPA2 400 epochs, white noise in 30% of the rows (DECISION-40)"
BASELINE = "V-JEPA2 400 epochs (DECISION-34)"
# run -> condition -> (accuracy over every output, over the 50 classes alone), fold 4. The two
# measures differ even on clean clips, so that reading the wrong one anywhere shows.
EVALS = {
    # the candidate: white noise costs 6 points over every output but 3 over the 50 classes
    # (half its noisy clips called background); clean 81.0 / 82.0
    "vjepa2-white40-s0": {"clean": (0.80, 0.81), "gain=-20": (0.80, 0.81), "noise=pink@10": (0.78, 0.80),
                          "noise=white@10": (0.74, 0.78), "rt60=0.5": (0.76, 0.77)},
    "vjepa2-white40-s1": {"clean": (0.82, 0.83), "gain=-20": (0.81, 0.82), "noise=pink@10": (0.80, 0.82),
                          "noise=white@10": (0.76, 0.80), "rt60=0.5": (0.78, 0.79)},
    # the baseline: white noise costs 5 points under both measures; clean 80.0 / 80.5
    "vjepa2-ep34-s0": {"clean": (0.80, 0.805), "gain=-20": (0.80, 0.805), "noise=pink@10": (0.78, 0.785),
                       "noise=white@10": (0.75, 0.755), "rt60=0.5": (0.77, 0.775)},
    "vjepa2-ep34-s1": {"clean": (0.80, 0.805), "gain=-20": (0.80, 0.805), "noise=pink@10": (0.78, 0.785),
                       "noise=white@10": (0.75, 0.755), "rt60=0.5": (0.77, 0.775)},
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
        if table.returncode != 0:
            print(f"FAIL: last_epoch_robustness.py exited {table.returncode}: {table.stderr}")
            sys.exit(1)
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
        check(abs(fifty["clean"] - 82.0) < 1e-9, f"clean over the 50 classes {fifty['clean']}, expected 82.0")

        rule = [os.path.join(crops, "last_epoch_rule.py"), CANDIDATE, BASELINE, "--table", table_path,
                "--limit", "clean=-1.0", "--limit", "noise=white@10=-1.0"]
        over_every_output = run(rule)
        check(over_every_output.returncode == 1,
              f"over every output the white drop 6.0 > 4.0 must fail the rule: {over_every_output.stdout}")
        over_fifty = run(rule + ["--fifty-classes"])
        check(over_fifty.returncode == 0, f"over the 50 classes the white drop 3.0 <= 4.0 must pass: {over_fifty.stdout}")
        check("clean accuracy: 81.0000 >= 79.0000 (baseline 80.0000)" in over_fifty.stdout,
              f"the clean accuracy must stay over every output, for both recipes: {over_fifty.stdout}")
        check("white-noise drop: 3.0000 <= 4.0000 (baseline 5.0000)" in over_fifty.stdout,
              f"both recipes' drops must be read over the 50 classes: {over_fifty.stdout}")

        # a run whose evals lack the 50-class measure: its recipe keeps the other row and has no 50-class row
        one = os.path.join(tmp, "last.vjepa2-ep34-s1.noise=white@10.json")
        with open(one) as f:
            ev = json.load(f)
        del ev["event_accuracy"]
        with open(one, "w") as f:
            json.dump(ev, f)
        partial = run([os.path.join(crops, "last_epoch_robustness.py"), tmp])
        check(partial.returncode == 0, f"a run without the 50-class measure stopped the table: {partial.stderr}")
        if partial.returncode == 0:
            baseline = json.loads(partial.stdout)["recipes"][BASELINE]
            check("last_epoch_50_classes" not in baseline and abs(baseline["last_epoch"]["noise=white@10"] - 5.0) < 1e-9,
                  f"the baseline without a full 50-class measure: {baseline}")

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
