#!/usr/bin/env python3
"""The same burst of mixed tiny jobs through a real `turboserve serve` (the real engine, on this CPU), once per
scheduling policy, side by side in one run: makespan, mean and P95 response, engine busy while work was pending.
No simulator assumption enters: response times are what a client sees (time of the create's answer to the first
poll that finds the video ended; polls every 50 ms), the busy ratio is the server's own
`turboserve_engine_busy_while_pending_ratio`.

    engine/.venv/bin/python bench/real_engine_burst.py [--jobs 60] [--seed 7] [--policies turbo,serial] [--json out.json]

The burst: every job created at once (a client that sends them as fast as the server answers), priority classes
interactive / standard / batch in equal shares, 1-4 steps, two thirds text-to-video (tiny-t2v) and one third
image-to-video (tiny-i2v, a PNG upload), seeded so both policies get the identical burst.
"""

import argparse
import io
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))
from turboserve_harness import Server, wait_for  # noqa: E402

CLASSES = ["interactive", "standard", "batch"]


def burst(jobs: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [{"prompt": f"burst job {i}", "priority": CLASSES[i % 3], "steps": rng.randint(1, 4), "seed": rng.randint(0, 2**31),
             "model": "tiny-i2v" if rng.random() < 1 / 3 else "tiny-t2v"} for i in range(jobs)]


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 64), (200, 80, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def create(url: str, job: dict, image: bytes) -> str:
    if job["model"] == "tiny-i2v":
        fields = {k: (None, str(v)) for k, v in job.items()}
        response = requests.post(url + "/v1/videos", files={**fields, "input_reference": ("in.png", image, "image/png")}, timeout=60)
    else:
        response = requests.post(url + "/v1/videos", json=job, timeout=60)
    response.raise_for_status()
    return response.json()["id"]


def metric(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(policy: str, jobs: list[dict], image: bytes, directory: Path) -> dict:
    server = Server(directory / policy, directory / "models", {"TURBOSERVE_SCHEDULER_POLICY": policy}).start()
    try:
        created, ended = {}, {}
        for job in jobs:
            video = create(server.url, job, image)
            created[video] = time.monotonic()
        first = min(created.values())

        def all_ended():
            page = requests.get(server.url + "/v1/videos?limit=100", timeout=10).json()["data"]
            now = time.monotonic()
            for video in page:
                if video["id"] in created and video["status"] in ("completed", "failed") and video["id"] not in ended:
                    ended[video["id"]] = (now, video["status"])
            return len(ended) == len(created)

        wait_for(all_ended, 900, f"the burst under {policy}", interval=0.05)
        responses = [ended[v][0] - created[v] for v in created]
        by_class = {c: [ended[v][0] - created[v] for v, job in zip(created, jobs) if job["priority"] == c] for c in CLASSES}
        metrics = server.metrics()
        return {
            "policy": policy, "jobs": len(jobs), "failed": sum(1 for _, status in ended.values() if status != "completed"),
            "makespan_s": max(t for t, _ in ended.values()) - first,
            "mean_s": statistics.mean(responses), "p95_s": percentile(responses, 0.95),
            "mean_by_class_s": {c: statistics.mean(v) for c, v in by_class.items()},
            "busy_while_pending": metric(metrics, "turboserve_engine_busy_while_pending_ratio"),
            "plans": metric(metrics, "turboserve_engine_plans_total"),
        }
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--policies", default="turbo,serial")
    parser.add_argument("--json")
    args = parser.parse_args()
    jobs, image = burst(args.jobs, args.seed), png()
    with tempfile.TemporaryDirectory() as scratch:
        results = [run(policy, jobs, image, Path(scratch)) for policy in args.policies.split(",")]
    print(f"\nreal engine (tiny models, this CPU), one burst of {args.jobs} jobs, seed {args.seed}")
    print(f"{'policy':8} | {'failed':>6} | {'makespan s':>10} | {'mean s':>7} | {'P95 s':>7} | {'busy while pending':>18} | {'plans':>6} | mean by class (i/s/b) s")
    for r in results:
        busy = f"{r['busy_while_pending']:.1%}" if r["busy_while_pending"] is not None else "n/a"
        classes = " / ".join(f"{r['mean_by_class_s'][c]:.1f}" for c in CLASSES)
        print(f"{r['policy']:8} | {r['failed']:>6} | {r['makespan_s']:>10.1f} | {r['mean_s']:>7.1f} | {r['p95_s']:>7.1f} | {busy:>18} | {r['plans'] or 0:>6.0f} | {classes}")
    if len(results) == 2:
        a, b = results
        print(f"{a['policy']} / {b['policy']}: makespan {a['makespan_s'] / b['makespan_s']:.2f}x, mean {a['mean_s'] / b['mean_s']:.2f}x, P95 {a['p95_s'] / b['p95_s']:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
