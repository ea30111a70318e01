#!/usr/bin/python3
"""Soak subscriber (bench/soak.sh): receives everything escd publishes and checks that it holds up.

Counts messages and seq gaps per topic; keeps the full-window score vectors of the first loop of the
input and of a late one (the input is one loop of audio repeated, whose length is a multiple of the
hop, so window k of every loop covers the same audio); writes a JSON summary when escd's stream ends.
Needs python3-zmq (Debian): run with /usr/bin/python3.
"""
import argparse
import json
import sys
import time

import zmq

from escd_topics import stream


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--ready", required=True, help="file created once the subscription is live")
    ap.add_argument("--loop-seconds", type=float, required=True)
    ap.add_argument("--loops", type=int, required=True)
    ap.add_argument("--model", default="mamba")
    ap.add_argument("--out", required=True)
    ap.add_argument("--quiet-seconds", type=float, default=20.0, help="stop after this long without messages")
    a = ap.parse_args()

    sock = zmq.Context().socket(zmq.SUB)
    sock.setsockopt(zmq.SUBSCRIBE, b"")
    sock.setsockopt(zmq.RCVHWM, 0)  # never drop on our side: a gap must be escd's
    sock.connect(a.endpoint)
    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN)

    scores_topic = "esc.scores." + a.model
    # Compare loop 0 with the second-to-last loop: the last loop's final windows have no next loop.
    late_loop = max(a.loops - 2, 0)
    last_seq, gaps, counts = {}, {}, {}
    first, late = {}, {}
    ready = False
    last_msg = time.monotonic()
    health_last = None
    while time.monotonic() - last_msg < a.quiet_seconds:
        if not poller.poll(200):
            continue
        topic, body = sock.recv_multipart()
        msg = json.loads(body)
        topic = stream(topic.decode(), msg)
        last_msg = time.monotonic()
        seq = msg["seq"]
        if topic in last_seq and seq != last_seq[topic] + 1:
            gaps[topic] = gaps.get(topic, 0) + 1
        last_seq[topic] = seq
        counts[topic] = counts.get(topic, 0) + 1
        if topic == "esc.health":
            health_last = msg
            if not ready:
                open(a.ready, "w").close()
                ready = True
        if topic == scores_topic and not msg["warming_up"]:
            start = msg["window"]["start"]
            loop = int(start // a.loop_seconds)
            key = round((start - loop * a.loop_seconds) * 1000)  # ms into the loop
            if loop == 0:
                first[key] = msg["scores"]
            elif loop == late_loop:
                late[key] = msg["scores"]

    common = sorted(set(first) & set(late))
    max_diff, top1_same = 0.0, 0
    for k in common:
        f, l = first[k], late[k]
        max_diff = max(max_diff, max(abs(x - y) for x, y in zip(f, l)))
        top1_same += max(range(len(f)), key=f.__getitem__) == max(range(len(l)), key=l.__getitem__)
    summary = {
        "messages": counts,
        "seq_gaps": gaps,
        "windows_compared": len(common),
        "late_loop": late_loop,
        "max_abs_score_diff": max_diff,
        "top1_agree": top1_same,
        "last_health": health_last,
    }
    with open(a.out, "w") as f:
        json.dump(summary, f, indent=1)
    return 0 if ready else 1


if __name__ == "__main__":
    sys.exit(main())
