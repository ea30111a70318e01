"""One check for every script here that reads an `esc-train eval --json` file: that it is the fold-4
evaluation its name says (the condition, condition seed 0 for a room condition, and when given the
checkpoint), so that a stale or misnamed file stops the measurement instead of entering it."""
import json


def read_fold4_eval(path, condition, checkpoint=None):
    """The eval's JSON; ValueError naming `path` and every mismatch, OSError or ValueError if unreadable."""
    with open(path) as f:
        ev = json.load(f)
    problems = []
    if ev.get("folds") != [4]:
        problems.append(f"folds {ev.get('folds')}")
    if checkpoint is not None and not str(ev.get("checkpoint", "")).endswith(checkpoint):
        problems.append(f"checkpoint {ev.get('checkpoint')}")
    if ev.get("condition") != condition or (condition != "clean" and ev.get("condition_seed") != 0):
        problems.append(f"condition {ev.get('condition')} (seed {ev.get('condition_seed')})")
    if problems:
        of = f" of {checkpoint}" if checkpoint else ""
        raise ValueError(f"{path}: not fold 4{of} under {condition} with condition seed 0 ({', '.join(problems)})")
    return ev
