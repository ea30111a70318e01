#!/usr/bin/python3
"""escd under subscriber load: raw s16le 16 kHz PCM is written to `escd --input -` in real time
(512 samples = 32 ms per write, as bench/escd_latency.py does) while
  - one healthy subscriber measures latency (write() of a window's last sample -> esc.scores
    received) and counts its seq gaps,
  - --stalled N subscribers connect, take one message and never read again (their receive queue
    is --stalled-hwm messages), so escd's queues for them fill and ZeroMQ drops for them,
  - --churn N subscribers connect and leave, --churn-batch at a time, each for --churn-hold-ms,
  - with --curve, everything runs over CURVE with a client allowlist (keys made by escd).
Prints one JSON object: escd CPU (% of one core, /proc), latency percentiles, messages received
and lost per stalled subscriber, writes that found escd's stdin pipe full, escd's last esc.health
publisher block. Needs /usr/bin/python3 with python3-zmq.

Usage: escd_subscribers.py --escd BIN --raw FILE --seconds S [--stalled N] [--churn N] [--curve]
                           -- escd args (model, checkpoint, config...)
"""
import argparse
import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time

import zmq

from escd_topics import stream

CHUNK = 512


def percentile(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q * (len(s) - 1)))))] if s else None


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def read_keys(path):
    keys = {}
    for line in open(path):
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            keys[k.strip()] = v.strip().strip('"')
    return keys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--escd", required=True)
    ap.add_argument("--raw", required=True)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--stalled", type=int, default=0)
    ap.add_argument("--stalled-hwm", type=int, default=100)
    ap.add_argument("--churn", type=int, default=0)
    ap.add_argument("--churn-batch", type=int, default=10)
    ap.add_argument("--churn-hold-ms", type=float, default=200)
    ap.add_argument("--curve", action="store_true")
    ap.add_argument("escd_args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    extra = [x for x in a.escd_args if x != "--"]
    tmp = tempfile.mkdtemp(prefix="escd-subs-")
    endpoint = f"ipc://{tmp}/pub.sock"
    ctx = zmq.Context()

    client = None
    if a.curve:
        for name in ("server", "client"):
            subprocess.run([a.escd, "--generate-curve-keypair", f"{tmp}/{name}.key"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server, client = read_keys(f"{tmp}/server.key"), read_keys(f"{tmp}/client.key")
        client["server"] = server["public"]
        with open(f"{tmp}/clients.toml", "w") as f:
            f.write(f'[clients]\nbench = "{client["public"]}"\n')
        extra += ["--curve-server-key", f"{tmp}/server.key", "--curve-client-keys", f"{tmp}/clients.toml"]

    def subscriber(hwm=1000):
        s = ctx.socket(zmq.SUB)
        s.setsockopt(zmq.RCVHWM, hwm)
        s.setsockopt(zmq.LINGER, 0)
        if client:
            s.curve_serverkey = client["server"].encode()
            s.curve_publickey = client["public"].encode()
            s.curve_secretkey = client["secret"].encode()
        s.setsockopt(zmq.SUBSCRIBE, b"")
        s.connect(endpoint)
        return s

    with open(a.raw, "rb") as f:
        pcm = f.read()
    n_chunks = min(len(pcm) // (2 * CHUNK), int(a.seconds * 16000 / CHUNK))
    log = open(f"{tmp}/escd.log", "w")
    escd = subprocess.Popen([a.escd, "--input", "-", "--format", "s16le", "--rate", "16000", "--channels", "1",
                             "--pub", endpoint, "--log-level", "warn"] + extra, stdin=subprocess.PIPE, stdout=log,
                            stderr=log)
    healthy = subscriber(1_000_000)
    received, stop = [], threading.Event()

    def reader():
        while not stop.is_set():
            if healthy.poll(100):
                topic, body = healthy.recv_multipart()
                message = json.loads(body)
                received.append((time.time(), stream(topic.decode(), message), message))

    threading.Thread(target=reader, daemon=True).start()
    deadline = time.time() + 60
    while not any(t == "esc.health" for _, t, _ in received):
        if time.time() > deadline or escd.poll() is not None:
            print(json.dumps({"error": "no health message from escd", "log": open(f"{tmp}/escd.log").read()}))
            return 1
        time.sleep(0.05)
    stalled = []
    for _ in range(a.stalled):
        s = subscriber(a.stalled_hwm)
        s.poll(10000)
        s.recv_multipart()  # connected and subscribed; never read again until the end
        stalled.append(s)

    churned = [0]

    def churn():
        while churned[0] < a.churn and not stop.is_set():
            batch = [subscriber() for _ in range(min(a.churn_batch, a.churn - churned[0]))]
            time.sleep(a.churn_hold_ms / 1000)
            for s in batch:
                s.close()
            churned[0] += len(batch)
            time.sleep(0.05)

    churner = threading.Thread(target=churn, daemon=True)
    churner.start()
    fd = escd.stdin.fileno()
    os.set_blocking(fd, False)
    written, pipe_full = [], 0
    cpu0, t0 = cpu_seconds(escd.pid), time.monotonic()
    start = time.monotonic() + 0.05
    for k in range(n_chunks):
        delay = start + k * CHUNK / 16000 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        data = pcm[2 * CHUNK * k: 2 * CHUNK * (k + 1)]
        full = False
        while data:
            try:
                n = os.write(fd, data)
                data = data[n:]
            except BlockingIOError:
                full = True
                select.select([], [fd], [], 0.1)
        pipe_full += full
        written.append(time.time())
    cpu = 100 * (cpu_seconds(escd.pid) - cpu0) / (time.monotonic() - t0)
    churner.join(timeout=30)
    escd.stdin.close()
    escd.wait(timeout=30)
    time.sleep(0.5)
    stop.set()

    latency, gaps, next_seq, health = [], 0, {}, {}
    for now, topic, m in received:
        if topic in next_seq and m["seq"] > next_seq[topic]:
            gaps += m["seq"] - next_seq[topic]
        next_seq[topic] = m["seq"] + 1
        if topic == "esc.health":
            health = m.get("publisher", {})
        if topic.startswith("esc.scores."):
            chunk = (int(round(m["t"] * 16000)) - 1) // CHUNK
            if chunk < len(written):
                latency.append(1e3 * (now - written[chunk]))
    scores_total = next_seq.get(next((t for t in next_seq if t.startswith("esc.scores.")), ""), 0)
    stalled_stats = []
    for s in stalled:
        got = 0
        while s.poll(200):
            s.recv_multipart()
            got += 1
        stalled_stats.append(got)
    result = {
        "seconds": n_chunks * CHUNK / 16000, "stalled": a.stalled, "churned": churned[0], "curve": a.curve,
        "escd_cpu_percent": round(cpu, 1), "pipe_full_writes": pipe_full, "exit_code": escd.returncode,
        "healthy": {"messages": len(received), "seq_gaps": gaps, "scores": scores_total,
                    "latency_ms": {"p50": percentile(latency, 0.5), "p99": percentile(latency, 0.99),
                                   "max": max(latency) if latency else None}},
        "stalled_received_each": sorted(set(stalled_stats)),
        "messages_published": len(received),
        "publisher_health": health,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
