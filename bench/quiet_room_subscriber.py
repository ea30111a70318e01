#!/usr/bin/python3
"""Quiet-room subscriber (bench/quiet_room.sh): what escd says about an empty room.

Counts, per model topic, the full windows, those escd marked as background, the top-1 labels, and
the event starts; writes a JSON summary once escd's stream has ended (no message for a while).
Needs python3-zmq (Debian): run with /usr/bin/python3.
"""
import argparse
import collections
import json
import time

import zmq

from escd_topics import stream


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--ready", required=True, help="file created once the subscription is live")
    ap.add_argument("--out", required=True)
    ap.add_argument("--quiet-seconds", type=float, default=5.0, help="stop after this long without messages")
    a = ap.parse_args()

    sock = zmq.Context().socket(zmq.SUB)
    for topic in (b"esc.scores.", b"esc.event.", b"esc.health"):
        sock.setsockopt(zmq.SUBSCRIBE, topic)
    sock.setsockopt(zmq.RCVHWM, 0)  # never drop on our side
    sock.connect(a.endpoint)
    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN)

    windows = collections.Counter()
    background = collections.Counter()
    starts = collections.Counter()
    top1 = collections.defaultdict(collections.Counter)
    max_p = collections.defaultdict(float)
    ready = False
    last_msg = time.monotonic()
    # Until the first message, escd may still be loading its models: wait longer for that one.
    while time.monotonic() - last_msg < (a.quiet_seconds if ready else 60.0):
        if not poller.poll(200):
            continue
        topic, body = sock.recv_multipart()
        msg = json.loads(body)
        topic = stream(topic.decode(), msg)
        last_msg = time.monotonic()
        if topic == "esc.health":
            if not ready:
                open(a.ready, "w").close()
                ready = True
            continue
        model = topic.split(".")[2]
        if topic.startswith("esc.scores.") and not msg["warming_up"]:
            windows[model] += 1
            background[model] += bool(msg.get("background", False))
            best = msg["top"][0]
            top1[model][best["label"]] += 1
            if best["label"] != "background":
                max_p[model] = max(max_p[model], best["p"])
        elif topic.startswith("esc.event.") and msg["type"] == "start":
            starts[model] += 1

    summary = {
        model: {
            "windows": windows[model],
            "background_windows": background[model],
            "event_starts": starts[model],
            "top1": dict(top1[model].most_common(3)),
            "max_event_class_probability": round(max_p[model], 4),
        }
        for model in sorted(windows)
    }
    json.dump(summary, open(a.out, "w"), indent=1)


if __name__ == "__main__":
    main()
