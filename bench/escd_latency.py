#!/usr/bin/env python3
"""Per-hop latency of escd: from the moment the last sample of a window is handed to escd to the
moment its esc.scores message is (a) published by escd (the message's `wall`) and (b) received by a
subscriber (esc-sub --json in a separate process, time-stamped when its line is read here).

Raw s16le 16 kHz mono PCM is written to `escd --input -` in real time, one 512-sample chunk (one
32 ms front-end hop) at a time; the time each chunk's write() returned is kept. A window's last
sample is at stream time `t` (the message's `t`), which falls in chunk (round(t * 16000) - 1) // 512.

Usage: escd_latency.py --escd BIN --esc-sub BIN --raw FILE --endpoint EP --seconds S -- escd args...
Prints one JSON object (per-model latency percentiles in ms, and escd's own health figures).
No dependencies beyond the standard library.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time

from escd_topics import stream

CHUNK = 512  # samples per write: one front-end hop at 16 kHz


def percentile(values, q):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q * (len(s) - 1)))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--escd", required=True)
    ap.add_argument("--esc-sub", required=True)
    ap.add_argument("--raw", required=True)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--log", default=os.devnull)
    ap.add_argument("escd_args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    extra = [x for x in a.escd_args if x != "--"]

    with open(a.raw, "rb") as f:
        pcm = f.read()
    n_chunks = min(len(pcm) // (2 * CHUNK), int(a.seconds * 16000 / CHUNK))

    log = open(a.log, "w")
    escd = subprocess.Popen([a.escd, "--input", "-", "--format", "s16le", "--rate", "16000", "--channels", "1",
                             "--pub", a.endpoint] + extra, stdin=subprocess.PIPE, stdout=log, stderr=log)
    sub = subprocess.Popen([a.esc_sub, "--connect", a.endpoint, "--topic", "esc.", "--json"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
    received = []  # (receive time, topic, message)
    first_health = threading.Event()

    def reader():
        for line in iter(sub.stdout.readline, b""):
            now = time.time()
            try:
                j = json.loads(line)
            except ValueError:
                continue
            topic = stream(j["topic"], j["message"])
            received.append((now, topic, j["message"]))
            if topic == "esc.health":
                first_health.set()

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        # The subscription is live once a health message arrives (escd publishes one every second
        # while it waits for audio); model loading happens before that.
        if not first_health.wait(60):
            print(json.dumps({"error": "no health message from escd within 60 s"}))
            return 1
        written = []
        start = time.monotonic() + 0.05
        for k in range(n_chunks):
            due = start + k * CHUNK / 16000.0
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            escd.stdin.write(pcm[2 * CHUNK * k: 2 * CHUNK * (k + 1)])
            escd.stdin.flush()
            written.append(time.time())
        escd.stdin.close()
        escd.wait(timeout=30)
        time.sleep(0.3)
    finally:
        for p in (escd, sub):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        thread.join(timeout=2)

    result = {"chunks_written": len(written), "models": {}}
    late_writes = sum(1 for k in range(1, len(written)) if written[k] - written[k - 1] > 0.064)
    result["writer_late_chunks"] = late_writes
    health = {}
    for now, topic, m in received:
        if topic == "esc.health" and m.get("models"):
            health = m
        if not topic.startswith("esc.scores."):
            continue
        model = topic[len("esc.scores."):]
        chunk = (int(round(m["t"] * 16000)) - 1) // CHUNK
        if chunk >= len(written):
            continue
        r = result["models"].setdefault(model, {"publish_ms": [], "receive_ms": []})
        r["publish_ms"].append(1e3 * (m["wall"] - written[chunk]))
        r["receive_ms"].append(1e3 * (now - written[chunk]))
    for model, r in result["models"].items():
        summary = {"hops": len(r["publish_ms"])}
        for key in ("publish_ms", "receive_ms"):
            summary[key] = {"p50": percentile(r[key], 0.5), "p90": percentile(r[key], 0.9),
                            "p99": percentile(r[key], 0.99), "max": max(r[key])}
        h = health.get("models", {}).get(model, {})
        summary["escd_health"] = {k: h.get(k) for k in ("frame_us_p50", "frame_us_p99", "window_us_p50", "window_us_p99")}
        result["models"][model] = summary
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
