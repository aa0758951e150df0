#!/usr/bin/env python3
"""The same burst through `turboserve serve` on this machine's real (tiny, CPU) engine, once per scheduling policy
(`scheduler.policy`: turboserve, serial), side by side in one run: makespan, mean and P95 response, mean response
per class, and the engine's busy fraction while work was pending. The one comparison no simulator assumption can
flatter: both runs use the same binary, engine, models and jobs, one after the other.

    python3 bench/real_engine_burst.py                      # 60 mixed jobs, both policies, one round
    python3 bench/real_engine_burst.py --jobs 60 --rounds 2 --out /tmp/burst.md

Each run starts a fresh server (SQLite in a temp dir, the tiny models) on a free loopback port, waits for
/readyz, submits every job of the burst at once (three classes, 1–4 steps, T2V and I2V with a generated PNG),
notes when each is first seen finished (the list is polled every 50 ms), and stops the server. The job mix is
drawn from --seed, so every policy gets exactly the same jobs. Standard library only; prints a Markdown table."""

import argparse
import concurrent.futures
import json
import os
import random
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLASSES = ("interactive", "standard", "batch")


def png(width, height, seed):
    """A small RGB PNG (a gradient), encoded with the standard library."""
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        for x in range(width):
            raw += bytes(((x * 7 + seed) % 256, (y * 5) % 256, (x + y + seed) % 256))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b""))


def burst(count, seed):
    """The jobs of the burst: (fields, image or None), the same for every policy."""
    rng = random.Random(seed)
    jobs = []
    for index in range(count):
        fields = {"prompt": f"burst job {index}", "priority": rng.choice(CLASSES), "steps": rng.randint(1, 4), "seconds": 1,
                  "seed": rng.randint(0, 2**31)}
        if rng.random() < 0.35:
            fields["model"] = "tiny-i2v"
            jobs.append((fields, png(112, 64, index)))
        else:
            fields.update(model="tiny-t2v", size="112x64")
            jobs.append((fields, None))
    return jobs


def post(url, fields, image):
    if image is None:
        body, kind = json.dumps(fields).encode(), "application/json"
    else:
        boundary = "turboserveburst"
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="input_reference"; filename="in.png"\r\n'
                     f'Content-Type: image/png\r\n\r\n'.encode() + image + b"\r\n")
        body, kind = b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"
    request = urllib.request.Request(url + "/v1/videos", data=body, method="POST", headers={"Content-Type": kind})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["id"]


def get(url, path):
    with urllib.request.urlopen(url + path, timeout=30) as response:
        return response.read().decode()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(binary, policy, jobs, workdir, timeout):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = Path(workdir) / policy
    data.mkdir(parents=True)
    env = dict(os.environ, TURBOSERVE_SCHEDULER_POLICY=policy, TURBOSERVE_STORAGE_DATA_DIR=str(data),
               TURBOSERVE_MODELS_DIR=str(Path(workdir) / "models"), TURBOSERVE_LIMITS_REQUESTS_PER_SECOND="0")
    log = open(data / "serve.log", "w")
    server = subprocess.Popen([str(binary), "serve", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 300
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"{policy}: the server exited: {(data / 'serve.log').read_text()[-2000:]}")
            try:
                if urllib.request.urlopen(url + "/readyz", timeout=2).status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{policy}: not ready within 300 s")
            time.sleep(0.2)
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            ids = list(pool.map(lambda job: post(url, *job), jobs))
        submitted = time.monotonic()
        classes = {job_id: fields["priority"] for job_id, (fields, _) in zip(ids, jobs)}
        finished, failed = {}, 0
        while len(finished) < len(ids):
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"{policy}: {len(ids) - len(finished)} jobs unfinished after {timeout} s")
            page = json.loads(get(url, "/v1/videos?limit=100"))["data"]
            now = time.monotonic()
            for video in page:
                if video["id"] in classes and video["id"] not in finished and video["status"] in ("completed", "failed"):
                    finished[video["id"]] = now
                    failed += video["status"] == "failed"
            time.sleep(0.05)
        metrics = get(url, "/metrics")
        busy = next((float(line.split()[-1]) for line in metrics.splitlines() if line.startswith("turboserve_engine_busy_while_pending_ratio")), float("nan"))
        responses = {job_id: at - started for job_id, at in finished.items()}
        by_class = {c: statistics.mean([r for j, r in responses.items() if classes[j] == c] or [float("nan")]) for c in CLASSES}
        return {"policy": policy, "makespan": max(finished.values()) - started, "mean": statistics.mean(responses.values()),
                "p95": percentile(list(responses.values()), 0.95), "by_class": by_class, "busy": busy, "failed": failed,
                "submit": submitted - started}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.environ.get("TURBOSERVE_BIN", str(ROOT / ".build/debug/turboserve")))
    parser.add_argument("--jobs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=1, help="alternate the policies this many times (medians reported)")
    parser.add_argument("--policies", default="turboserve,serial")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--out", help="also write the table to this file")
    args = parser.parse_args()
    jobs = burst(args.jobs, args.seed)
    mix = {c: sum(f["priority"] == c for f, _ in jobs) for c in CLASSES}
    print(f"[burst] {len(jobs)} jobs ({', '.join(f'{n} {c}' for c, n in mix.items())}; "
          f"{sum(i is not None for _, i in jobs)} I2V), seed {args.seed}, binary {args.binary}", file=sys.stderr)
    results = {p: [] for p in args.policies.split(",")}
    with tempfile.TemporaryDirectory(prefix="turboserve-burst-") as workdir:
        for round_index in range(args.rounds):
            for policy in results:
                result = run(args.binary, policy, jobs, Path(workdir) / f"r{round_index}", args.timeout)
                print(f"[burst] round {round_index + 1} {policy}: makespan {result['makespan']:.1f} s, mean {result['mean']:.1f} s, "
                      f"P95 {result['p95']:.1f} s, busy {result['busy']:.3f}, failed {result['failed']}", file=sys.stderr)
                results[policy].append(result)

    def median(policy, key, inner=None):
        values = [r[key][inner] if inner else r[key] for r in results[policy]]
        return statistics.median(values)
    baseline = "serial" if "serial" in results else None
    lines = [f"| policy | makespan | mean response | P95 response | interactive mean | standard mean | batch mean | engine busy while pending | failed |",
             "|---|---|---|---|---|---|---|---|---|"]
    for policy in results:
        ratio = lambda key: f" ({median(policy, key) / median(baseline, key):.2f}×)" if baseline and policy != baseline else ""
        lines.append(f"| {policy} | {median(policy, 'makespan'):.1f} s{ratio('makespan')} | {median(policy, 'mean'):.1f} s{ratio('mean')} | "
                     f"{median(policy, 'p95'):.1f} s{ratio('p95')} | "
                     + " | ".join(f"{median(policy, 'by_class', c):.1f} s" for c in CLASSES)
                     + f" | {median(policy, 'busy'):.3f} | {sum(r['failed'] for r in results[policy])} |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        Path(args.out).write_text(table + "\n")


if __name__ == "__main__":
    main()
