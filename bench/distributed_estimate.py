#!/usr/bin/env python3
"""bench/distributed.sh's figures and scaling estimate (docs/DISTRIBUTED.md).

Reads the metrics of one process and of two ranks (the second epoch of each), prints the Markdown
section for bench/RESULTS.md and writes the figures as JSON.

The estimate, for N machines with one rank each (one thread, as measured):
  compute per step at b rows per rank   t_c(b) = t_fixed + b * t_row, fitted through the two
                                        measured points (b = B with one rank, B/2 with two, minus
                                        the all-reduce time)
  ring all-reduce of S bytes            t_ar(N) = t_gloo + 2(N-1)/N * S / bandwidth + 2(N-1) * latency
                                        (t_gloo: the measured loopback all-reduce per step, which
                                        includes waiting for the slower rank: conservative)
  epoch                                 steps(N) * (t_c(b) + t_ar(N)), steps = clips / (b * N)
Bandwidths: 1 GbE 117 MB/s, 10 GbE 1170 MB/s (94% of the line rate); latency per ring step 50 us
on 1 GbE, 20 us on 10 GbE. These are assumptions for a switched LAN, not measurements.
"""
import argparse
import json
import sys
import tomllib
from pathlib import Path

NETWORKS = {"1 GbE": (117e6, 50e-6), "10 GbE": (1170e6, 20e-6)}
MACHINES = [1, 2, 4, 8, 16, 32, 64]


def second_epoch(path):
    lines = [json.loads(l) for l in Path(path).read_text().splitlines() if l.strip()]
    if len(lines) < 2:
        sys.exit(f"distributed_estimate: {path}: expected 2 epochs, found {len(lines)}")
    return lines[1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--one", required=True)
    p.add_argument("--two", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--command", required=True)
    p.add_argument("--json", required=True)
    p.add_argument("--load", default="")
    a = p.parse_args()
    root = Path(__file__).resolve().parent.parent
    batch = tomllib.loads((root / "config" / f"{a.model}.toml").read_text())["train"]["batch_size"]

    one, two = second_epoch(a.one), second_epoch(a.two)
    clips = round(one["clips_per_second"] * one["train_seconds"])
    steps = clips // batch
    t1 = one["train_seconds"] / steps
    t2 = two["train_seconds"] / steps
    # Per step, over all its buckets; the epoch's one extra call (its totals: 4 float64) is left out.
    ar2 = two["allreduce_seconds"] * (two["allreduce_calls"] - 1) / two["allreduce_calls"] / steps
    grad_bytes = (two["allreduce_bytes"] - 4 * 8) / steps
    half = batch // 2
    compute_half = t2 - ar2
    t_row = max((t1 - compute_half) / (batch - half), 0.0)
    t_fixed = max(t1 - batch * t_row, 0.0)

    def epoch_seconds(machines, rows_per_rank, network):
        bandwidth, latency = NETWORKS[network]
        n_steps = clips / (rows_per_rank * machines)  # an epoch's work, in (fractional) steps
        if machines == 1:
            allreduce = 0.0
        else:
            allreduce = ar2 + 2 * (machines - 1) / machines * grad_bytes / bandwidth + 2 * (machines - 1) * latency
        return n_steps * (t_fixed + rows_per_rank * t_row + allreduce), n_steps

    # Two ways to use N machines: each keeps the recipe's rows per rank (the global batch grows with
    # N), or the recipe's global batch is split ever thinner (at least one row per rank).
    base = epoch_seconds(1, batch, "1 GbE")[0]
    estimates = []
    for network in NETWORKS:
        for n in MACHINES:
            for rows_per_rank in sorted({batch, batch // n} if batch % n == 0 else {batch}, reverse=True):
                seconds, n_steps = epoch_seconds(n, rows_per_rank, network)
                estimates.append({"network": network, "machines": n, "rows_per_rank": rows_per_rank,
                                  "global_batch": rows_per_rank * n, "steps_per_epoch": n_steps,
                                  "epoch_seconds": seconds, "clips_per_second": clips / seconds,
                                  "speedup": base / seconds})

    figures = {"model": a.model, "command": a.command, "load": a.load, "batch_size": batch, "clips": clips,
               "steps": steps,
               "one_rank": {"epoch_train_seconds": one["train_seconds"], "step_seconds": t1,
                            "clips_per_second": one["clips_per_second"]},
               "two_ranks": {"epoch_train_seconds": two["train_seconds"], "step_seconds": t2,
                             "clips_per_second": two["clips_per_second"], "allreduce_seconds_per_step": ar2,
                             "gradient_bytes_per_step": grad_bytes, "allreduce_calls": two["allreduce_calls"]},
               "fit": {"step_fixed_seconds": t_fixed, "seconds_per_row": t_row},
               "networks": {k: {"bytes_per_second": v[0], "latency_seconds": v[1]} for k, v in NETWORKS.items()},
               "estimates": estimates}
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(a.json + ".tmp")
    tmp.write_text(json.dumps(figures, indent=1) + "\n")
    tmp.replace(a.json)

    print("## Data-parallel training\n")
    print(f"Generated by `{a.command}`; load average {a.load} (before / after).\n")
    print(f"{a.model}, the recipe's global batch of {batch}, one thread per rank, second of two epochs "
          f"({clips} clips, {steps} steps):\n")
    print("| ranks on this machine | epoch (training), s | step, s | clips/s | all-reduce per step | speed-up |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| 1 | {one['train_seconds']:.1f} | {t1:.3f} | {one['clips_per_second']:.1f} | | 1.00x |")
    print(f"| 2 | {two['train_seconds']:.1f} | {t2:.3f} | {two['clips_per_second']:.1f} | "
          f"{grad_bytes / 1e6:.2f} MB in {ar2 * 1e3:.2f} ms | {t1 / t2:.2f}x |")
    print()
    print(f"Estimated epoch time on N machines (one rank each, one thread; compute per step "
          f"{t_fixed * 1e3:.0f} ms + {t_row * 1e3:.1f} ms per row, fitted to the two rows above; ring all-reduce "
          f"of {grad_bytes / 1e6:.2f} MB; see bench/distributed_estimate.py for the model and its assumptions):\n")
    print("| machines | rows per rank | global batch | 1 GbE: clips/s, epoch s (speed-up) | "
          "10 GbE: clips/s, epoch s (speed-up) |")
    print("| --- | --- | --- | --- | --- |")
    keyed = {(e["network"], e["machines"], e["rows_per_rank"]): e for e in estimates}
    rows = sorted({(e["machines"], e["rows_per_rank"]) for e in estimates}, key=lambda r: (r[1] != batch, r))
    for n, rows_per_rank in rows:
        cells = []
        for network in NETWORKS:
            e = keyed[(network, n, rows_per_rank)]
            cells.append(f"{e['clips_per_second']:.0f}, {e['epoch_seconds']:.1f} ({e['speedup']:.1f}x)")
        print(f"| {n} | {rows_per_rank} | {rows_per_rank * n} | {cells[0]} | {cells[1]} |")
    print()
    print("A global batch larger than the recipe's changes the optimisation (the learning rate would need "
          "retuning); the rows with the recipe's global batch keep it, down to one row per rank (so 64 machines "
          f"cannot share it). An epoch is {clips} clips of work: from 64 machines at {batch} rows each, one step is "
          "more than an epoch of ESC-50's training folds, where a larger dataset is what more machines buy.")


if __name__ == "__main__":
    main()
