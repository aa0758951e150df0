#!/usr/bin/env python3
"""Random workloads, every policy on equal engines: a probe for the workload nobody has seen yet.

    swift build -c release --product turboserve
    python3 bench/random-workloads.py 60 1000     # 60 workloads, generator seeds 1000..1059

Each workload draws 2–5 classes (model and resolution among the 1.3B at 480p, the 14B at 480p and 720p and the
I2V A14B at 720p; aspect ratio, 33–81 frames, 1–4 steps, priority, an SLO factor of 1.5–6) and either a closed loop
(2–30 users, 5–300 s think) or Poisson arrivals (0.005–0.08 jobs/s, a coefficient of variation up to 4), for 30
minutes; many are far past one GPU's capacity. Prints each workload's goodput (jobs within their deadline per hour)
as a ratio to the best baseline's and the geometric mean, then a table of the geometric means of goodput, mean, P95
and P99 response against the best baseline on each figure, by how loaded the workloads are. Every figure is simulated;
runs write to bench-out/random/.
"""
import json
import math
import os
import random
import sys
from concurrent.futures import ThreadPoolExecutor

from simbench import BASELINES, ROOT, bench, require_binary

CALIBRATION = "calibration-rtx5090.json"  # the repository's own (Calibration.rtx5090), wherever the file is written
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


LATENCIES = [("mean", "mean_response_s"), ("P95", "p95_response_s"), ("P99", "p99_response_s")]


def load_band(results):
    """How loaded a workload is, judged by the share of deadlines FIFO batching (`dynamic-batch`) meets."""
    met = float(results["dynamic-batch"]["slo_attainment"])
    return "light" if met >= 0.8 else "medium" if met >= 0.4 else "heavy"


def geometric_mean(ratios):
    return math.exp(sum(math.log(max(r, 1e-3)) for r in ratios) / len(ratios))


def main():
    count, first = int(sys.argv[1]), int(sys.argv[2])
    require_binary()
    # ratios[(band, policy, figure)]: each workload's figure as a ratio to the best baseline's (goodput: the highest;
    # the latencies: the lowest, each taken on its own).
    ratios = {}
    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        for seed, results in pool.map(run, range(first, first + count)):
            best = max(float(results[b]["goodput_per_hour"]) for b in BASELINES)
            goodput = {p: (float(results[p]["goodput_per_hour"]) / best if best > 0 else 1.0) for p in OURS}
            band = load_band(results)
            lowest = {key: min(float(results[b][key]) for b in BASELINES) for _, key in LATENCIES}
            for policy in OURS:
                for where in (band, "all"):
                    ratios.setdefault((where, policy, "goodput"), []).append(goodput[policy])
                    for figure, key in LATENCIES:
                        ratios.setdefault((where, policy, figure), []).append(float(results[policy][key]) / lowest[key])
            print(seed, band, "  ".join(f"{p} {r:.2f}×" for p, r in goodput.items()))
    for policy in OURS:
        values = ratios[("all", policy, "goodput")]
        below = sum(1 for v in values if v < 0.95)
        print(f"{policy}: goodput vs best baseline, geometric mean {geometric_mean(values):.3f}; below 0.95× on {below} of {len(values)}")
    print("\nGeometric means of the ratio to the best baseline (goodput: higher is better; mean, P95, P99: lower is better),"
          "\nby load: light, medium, heavy = dynamic-batch meets >= 80%, 40-80%, < 40% of deadlines")
    print("| load | workloads | policy | goodput | mean | P95 | P99 |")
    print("|---|---|---|---|---|---|---|")
    for band in ("light", "medium", "heavy", "all"):
        for policy in OURS:
            if (band, policy, "goodput") not in ratios:
                continue
            cells = [f"{geometric_mean(ratios[(band, policy, figure)]):.2f}×" for figure in ["goodput"] + [f for f, _ in LATENCIES]]
            print(f"| {band} | {len(ratios[(band, policy, 'goodput')])} | {policy} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
