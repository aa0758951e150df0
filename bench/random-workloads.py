#!/usr/bin/env python3
"""Random workloads, every policy on equal engines: a probe for the workload nobody has seen yet.

    swift build -c release --product turboserve
    python3 bench/random-workloads.py 60 1000     # 60 workloads, generator seeds 1000..1059

Each workload draws 2–5 classes (model and resolution among the 1.3B at 480p, the 14B at 480p and 720p and the
I2V A14B at 720p; aspect ratio, 33–81 frames, 1–4 steps, priority, an SLO factor of 1.5–6) and either a closed loop
(2–30 users, 5–300 s think) or Poisson arrivals (0.005–0.08 jobs/s, a coefficient of variation up to 4), for 30
minutes; many are far past one GPU's capacity. Prints each workload's goodput (jobs within their deadline per hour)
as a ratio to the best baseline's, and the geometric mean. Every figure is simulated; runs write to
bench-out/random/.
"""
import json
import math
import os
import random
import sys
from concurrent.futures import ThreadPoolExecutor

from simbench import BASELINES, ROOT, bench, require_binary

CALIBRATION = os.path.join(ROOT, "../shared/workloads/calibration-rtx5090.json")
SHAPES = [("wan2.1-t2v-1.3b", "480p"), ("wan2.1-t2v-14b", "480p"), ("wan2.1-t2v-14b", "720p"), ("wan2.2-i2v-a14b", "720p")]
OURS = ["turboserve", "turboserve-arrival", "turboserve-deadlines"]


def workload(seed):
    draw = random.Random(seed)
    classes = []
    for i in range(draw.randint(2, 5)):
        model, resolution = draw.choice(SHAPES)
        classes.append({"name": f"c{i}", "weight": round(draw.uniform(0.05, 1), 2), "model": model, "resolution": resolution,
                        "aspect_ratio": draw.choice(["16:9", "9:16", "1:1"]), "frames": draw.choice([33, 49, 81]),
                        "steps": draw.randint(1, 4), "priority": draw.choice(["interactive", "standard", "batch"]),
                        "slo_factor": round(draw.uniform(1.5, 6), 1)})
    if draw.random() < 0.5:
        arrivals = {"kind": "closed_loop", "users": draw.randint(2, 30), "think_s_mean": round(draw.uniform(5, 300), 1),
                    "duration_s": 1800, "rng_seed": seed}
    else:
        arrivals = {"kind": "poisson", "rate_per_s": round(draw.uniform(0.005, 0.08), 4), "duration_s": 1800, "rng_seed": seed}
        if draw.random() < 0.4:
            arrivals["cv"] = round(draw.uniform(1, 4), 1)
    return {"name": f"random-{seed}", "calibration": CALIBRATION, "arrivals": arrivals, "classes": classes}


def run(seed):
    folder = os.path.join(ROOT, "bench-out", "random", str(seed))
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "workload.json")
    with open(path, "w") as file:
        json.dump(workload(seed), file)
    return seed, bench(f"random/{seed}", "--workload", path, "--policy", "all,turboserve-arrival,turboserve-deadlines",
                       "--baseline-engine", "streamed")


def main():
    count, first = int(sys.argv[1]), int(sys.argv[2])
    require_binary()
    logs = {policy: [] for policy in OURS}
    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        for seed, results in pool.map(run, range(first, first + count)):
            best = max(float(results[b]["goodput_per_hour"]) for b in BASELINES)
            ratios = {p: (float(results[p]["goodput_per_hour"]) / best if best > 0 else 1.0) for p in OURS}
            for policy, ratio in ratios.items():
                logs[policy].append(math.log(max(ratio, 1e-3)))
            print(seed, "  ".join(f"{p} {r:.2f}×" for p, r in ratios.items()))
    for policy, values in logs.items():
        below = sum(1 for v in values if v < math.log(0.95))
        print(f"{policy}: goodput vs best baseline, geometric mean {math.exp(sum(values) / len(values)):.3f}; below 0.95× on {below} of {len(values)}")


if __name__ == "__main__":
    main()
