#!/usr/bin/env python3
"""Print the simulated scheduler tables of docs/benchmarks.md from fresh `turboserve bench` runs.

    swift build -c release --product turboserve
    python3 bench/scheduler-tables.py            # every table
    python3 bench/scheduler-tables.py seed-mix   # or: upstream, own, think, floor, matched, noise

seed-mix: every policy on TurboServe's engine, eight seeds, `tail` and `arrival` against the best baseline of each
seed (bold: ahead of every baseline). upstream: the same seeds with the baselines on upstream's engine, each
objective's mean and P95 as a ratio of serial's. own: the workloads under bench/, every policy on equal engines.
think: seed-mix on equal engines with its users' mean think time moved from 120 s to 118, 119, 121 and 122 s, to tell
a seed's systematic result from the closed loop's sensitivity to timing. floor: per seed, the P95 of the response
floor (each job alone on an idle engine, weights resident) beside upstream serial's 0.45× target, the best baseline's
P95 on equal engines and ours: how much room any order has. matched: the same eight seeds compared over the same
requests only (a user's k-th request, answered under every policy but serial), which takes out the closed loop's
handing a faster policy more requests. noise: `dynamic-batch` with its batching wait moved from 0.5 s
(`--dynamic-batch-wait`), against the baselines of the default runs: how far a change that leaves a policy as it is
moves one seed.
Every figure is simulated. Runs write to bench-out/ as the commands in the docs do; a whole run takes a few seconds.
"""
import csv
import json
import math
import os
import sys

from simbench import BASELINES, ROOT, bench, require_binary

SEED_MIX = os.path.join(ROOT, "bench/seed-mix.json")  # the shared seed-mix, kept as it is
SEEDS = ["20261123", "1", "2", "3", "4", "5", "6", "7"]
OURS = [("turboserve", "`tail`"), ("turboserve-arrival", "`arrival`")]
OWN = ["i2v-heavy", "portrait-720p-14b", "bursty-cv3", "diurnal-day", "t2v-rush", "seed-mix-20-users"]


def number(row, key):
    return float(row[key])


def seed_mix():
    print("| seed | best baseline mean / P95 / P99 (s) | " + " | ".join(f"{label} mean / P95 / P99" for _, label in OURS)
          + " | best baseline SLO | " + " | ".join(f"{label} SLO" for _, label in OURS)
          + " | lowest baseline I2V SLO | " + " | ".join(f"{label} I2V SLO" for _, label in OURS) + " |")
    print("|---" * (4 + 3 * len(OURS)) + "|")
    ratios = {policy: {"mean": [], "p95": [], "p99": [], "slo": []} for policy, _ in OURS}
    ahead = {policy: [] for policy, _ in OURS}
    for seed in SEEDS:
        rows = bench(f"arrival-{seed}", "--workload", SEED_MIX, "--policy", "all,turboserve-arrival",
                     "--baseline-engine", "streamed", "--seed", seed)
        best = {key: min(number(rows[p], key) for p in BASELINES)
                for key in ("mean_response_s", "p95_response_s", "p99_response_s")}
        best_slo = max(number(rows[p], "slo_attainment") for p in BASELINES)
        lowest_i2v = min(number(rows[p], "slo_i2v") for p in BASELINES)
        cells = [seed, " / ".join(f"{best[k]:.1f}" for k in best)]
        slo_cells, i2v_cells = [], []
        for policy, _ in OURS:
            row = rows[policy]
            latencies = []
            wins = 0
            for key, short in zip(best, ("mean", "p95", "p99")):
                value = number(row, key)
                ratios[policy][short].append(value / best[key])
                wins += value < best[key]
                latencies.append(f"**{value:.1f}**" if value < best[key] else f"{value:.1f}")
            cells.append(" / ".join(latencies))
            slo = number(row, "slo_attainment")
            ratios[policy]["slo"].append(slo / best_slo)
            slo_cells.append(f"**{slo:.1%}**" if slo > best_slo else f"{slo:.1%}")
            i2v_cells.append(f"{number(row, 'slo_i2v'):.1%}")
            if wins == 3 and slo > best_slo and number(row, "slo_i2v") >= lowest_i2v:
                ahead[policy].append(seed)
        print("| " + " | ".join(cells + [f"{best_slo:.1%}"] + slo_cells + [f"{lowest_i2v:.1%}"] + i2v_cells) + " |")
    print()
    for policy, label in OURS:
        average = {k: sum(v) / len(v) for k, v in ratios[policy].items()}
        print(f"{label}: averaged ratios to the best baseline mean {average['mean']:.2f}×, P95 {average['p95']:.2f}×, "
              f"P99 {average['p99']:.2f}×, SLO {average['slo']:.2f}×; ahead on all four (I2V attainment not below) on "
              f"{len(ahead[policy])} of {len(SEEDS)} seeds {ahead[policy]}")


def upstream():
    print("| seed | serial mean (s) | serial P95 (s) | " + " | ".join(f"{label} mean / ratio | {label} P95 / ratio" for _, label in OURS) + " |")
    print("|---" * (3 + 2 * len(OURS)) + "|")
    spans = {policy: {"mean": [], "p95": []} for policy, _ in OURS}
    for seed in SEEDS:
        rows = bench(f"upstream-{seed}", "--workload", SEED_MIX, "--policy", "serial,turboserve,turboserve-arrival", "--seed", seed)
        serial_mean, serial_p95 = number(rows["serial"], "mean_response_s"), number(rows["serial"], "p95_response_s")
        cells = [seed, f"{serial_mean:.1f}", f"{serial_p95:.1f}"]
        for policy, _ in OURS:
            mean, p95 = number(rows[policy], "mean_response_s"), number(rows[policy], "p95_response_s")
            spans[policy]["mean"].append(mean / serial_mean)
            spans[policy]["p95"].append(p95 / serial_p95)
            cells += [f"{mean:.1f} / {mean / serial_mean:.2f}×", f"{p95:.1f} / {p95 / serial_p95:.2f}×"]
        print("| " + " | ".join(cells) + " |")
    print()
    for policy, label in OURS:
        means, p95s = spans[policy]["mean"], spans[policy]["p95"]
        both = sum(m <= 0.40 and p <= 0.45 for m, p in zip(means, p95s))
        print(f"{label}: mean {min(means):.2f}–{max(means):.2f}× serial, P95 {min(p95s):.2f}–{max(p95s):.2f}×; "
              f"mean ≤ 0.40× on {sum(m <= 0.40 for m in means)} seeds, P95 ≤ 0.45× on {sum(p <= 0.45 for p in p95s)}, both on {both}")


def own():
    print("| workload | policy | mean (s) | P95 (s) | P99 (s) | SLO | goodput (in-SLO jobs/h) | goodput vs best baseline "
          "| busy | mean batch | videos/Wh | bound (jobs/h) |")
    print("|---" * 12 + "|")
    for name in OWN:
        rows = bench(name, "--workload", f"bench/{name}.json", "--policy", "all,turboserve-arrival", "--baseline-engine", "streamed")
        best = max(number(rows[p], "goodput_per_hour") for p in BASELINES)
        for policy in BASELINES + [p for p, _ in OURS]:
            row = rows[policy]
            print(f"| {name} | {policy} | {number(row, 'mean_response_s'):.1f} | {number(row, 'p95_response_s'):.1f} | "
                  f"{number(row, 'p99_response_s'):.1f} | {number(row, 'slo_attainment'):.1%} | "
                  f"{number(row, 'goodput_per_hour'):.1f} | {number(row, 'goodput_per_hour') / best:.2f}× | "
                  f"{number(row, 'busy_fraction'):.1%} | {number(row, 'mean_batch_size'):.2f} | "
                  f"{number(row, 'videos_per_wh'):.2f} | {number(row, 'bound_per_hour'):.1f} |")


def think():
    thinks = [118, 119, 120, 121, 122]
    print("| seed | " + " | ".join(f"{label} P95 / P99 ratio, think {t} s" for _, label in OURS for t in thinks) + " |")
    print("|---" * (1 + len(OURS) * len(thinks)) + "|")
    with open(SEED_MIX) as file:
        workload = json.load(file)
    folder = os.path.join(ROOT, "bench-out", "think")
    os.makedirs(folder, exist_ok=True)
    wins = {policy: 0 for policy, _ in OURS}
    for t in thinks:
        workload["arrivals"]["think_s_mean"] = float(t)
        with open(os.path.join(folder, f"seed-mix-think-{t}.json"), "w") as file:
            json.dump(workload, file)
    for seed in SEEDS:
        cells = [seed]
        for policy, _ in OURS:
            for t in thinks:
                rows = bench(f"think/{t}-{seed}", "--workload", os.path.join(folder, f"seed-mix-think-{t}.json"),
                             "--policy", "all,turboserve-arrival", "--baseline-engine", "streamed", "--seed", seed)
                best = {key: min(number(rows[p], key) for p in BASELINES) for key in ("mean_response_s", "p95_response_s", "p99_response_s")}
                ahead = all(number(rows[policy], k) < best[k] for k in best) and \
                    number(rows[policy], "slo_attainment") > max(number(rows[p], "slo_attainment") for p in BASELINES)
                wins[policy] += ahead
                cells.append(f"{number(rows[policy], 'p95_response_s') / best['p95_response_s']:.2f} / "
                             f"{number(rows[policy], 'p99_response_s') / best['p99_response_s']:.2f}" + (" ✓" if ahead else ""))
        print("| " + " | ".join(cells) + " |")
    print()
    for policy, label in OURS:
        print(f"{label}: ahead of every baseline on mean, P95, P99 and SLO attainment (✓) in {wins[policy]} of "
              f"{len(SEEDS) * len(thinks)} runs")


def floor():
    print("| seed | I2V share of answered requests | P95 floor (s) | 0.45 × upstream serial P95 (s) | best baseline P95 (s) "
          "| its headroom over the floor | " + " | ".join(f"{label} P95 (s)" for _, label in OURS) + " |")
    print("|---" * (6 + len(OURS)) + "|")
    below = []
    for seed in SEEDS:
        equal = bench(f"arrival-{seed}", "--workload", SEED_MIX, "--policy", "all,turboserve-arrival",
                      "--baseline-engine", "streamed", "--seed", seed)
        upstream_rows = bench(f"upstream-{seed}", "--workload", SEED_MIX, "--policy", "serial", "--seed", seed)
        with open(os.path.join(ROOT, "bench-out", f"arrival-{seed}", "jobs.csv")) as file:
            answered = [row for row in csv.DictReader(file) if row["policy"] == "turboserve" and row["status"] == "succeeded"]
        share = sum(row["class"] == "i2v" for row in answered) / len(answered)
        floor_p95 = min(number(row, "p95_floor_s") for row in equal.values())
        target = 0.45 * number(upstream_rows["serial"], "p95_response_s")
        best = min(BASELINES, key=lambda p: number(equal[p], "p95_response_s"))
        best_p95 = number(equal[best], "p95_response_s")
        if target < floor_p95:
            below.append(seed)
        print(f"| {seed} | {share:.1%} | {floor_p95:.1f} | {target:.1f}" + (" (below the floor)" if target < floor_p95 else "")
              + f" | {best_p95:.1f} ({best}) | {best_p95 / number(equal[best], 'p95_floor_s') - 1:+.0%} | "
              + " | ".join(f"{number(equal[p], 'p95_response_s'):.1f}" for p, _ in OURS) + " |")
    print()
    print(f"0.45 × upstream serial's P95 is below the floor of every policy's run on {len(below)} of {len(SEEDS)} seeds {below}")


def percentile(values, p):
    """Nearest rank, as `turboserve bench` computes it."""
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(p * len(ordered)))) - 1]


def matched():
    compared = ["seed", "dynamic-batch"] + [p for p, _ in OURS]
    print("| seed | requests every policy but serial answered | " + " | ".join(f"{label} mean / P95 / P99 ratio" for _, label in OURS) + " |")
    print("|---" * (2 + len(OURS)) + "|")
    ratios = {policy: [] for policy, _ in OURS}
    for seed in SEEDS:
        bench(f"arrival-{seed}", "--workload", SEED_MIX, "--policy", "all,turboserve-arrival", "--baseline-engine", "streamed", "--seed", seed)
        with open(os.path.join(ROOT, "bench-out", f"arrival-{seed}", "jobs.csv")) as file:
            rows = [row for row in csv.DictReader(file) if row["status"] == "succeeded"]
        responses = {p: {(r["user"], r["request"]): float(r["response_s"]) for r in rows if r["policy"] == p} for p in compared}
        pairs = set.intersection(*(set(answered) for answered in responses.values()))
        figures = {}
        for policy in compared:
            values = [responses[policy][pair] for pair in pairs]
            figures[policy] = (sum(values) / len(values), percentile(values, 0.95), percentile(values, 0.99))
        best = [min(figures[p][i] for p in compared if p in BASELINES) for i in range(3)]
        cells = [seed, str(len(pairs))]
        for policy, _ in OURS:
            ratio = [figures[policy][i] / best[i] for i in range(3)]
            ratios[policy].append(ratio)
            cells.append(" / ".join(f"**{r:.2f}×**" if r < 1 else f"{r:.2f}×" for r in ratio))
        print("| " + " | ".join(cells) + " |")
    print()
    for policy, label in OURS:
        average = [sum(r[i] for r in ratios[policy]) / len(SEEDS) for i in range(3)]
        ahead = sum(all(x < 1 for x in r) for r in ratios[policy])
        print(f"{label}: averaged ratios to the best baseline over the same requests: mean {average[0]:.2f}×, P95 "
              f"{average[1]:.2f}×, P99 {average[2]:.2f}×; ahead on all three on {ahead} of {len(SEEDS)} seeds")


def noise():
    """dynamic-batch against the baselines of its own default run, its batching wait moved (`--dynamic-batch-wait`):
    how far a change that leaves the policy as it is moves a single seed."""
    waits = ["0.2", "0.3", "0.4", "0.45", "0.55", "0.6", "0.75", "1.0"]
    keys = ("mean_response_s", "p95_response_s", "p99_response_s")
    print("| batching wait (s) | seeds ahead of every baseline on all four | P95 ratio, seed by seed | P99 ratio, seed by seed "
          "| mean ratio (average) | SLO attainment ratio (average) |")
    print("|---" * 6 + "|")
    best, best_slo = {}, {}
    for seed in SEEDS:
        rows = bench(f"arrival-{seed}", "--workload", SEED_MIX, "--policy", "all,turboserve-arrival", "--baseline-engine",
                     "streamed", "--seed", seed)
        best[seed] = {key: min(number(rows[p], key) for p in BASELINES) for key in keys}
        best_slo[seed] = max(number(rows[p], "slo_attainment") for p in BASELINES)
    for wait in waits:
        ratios = {key: [] for key in keys + ("slo_attainment",)}
        ahead = 0
        for seed in SEEDS:
            moved = bench(f"noise/{wait}-{seed}", "--workload", SEED_MIX, "--policy", "dynamic-batch", "--baseline-engine",
                          "streamed", "--dynamic-batch-wait", wait, "--seed", seed)["dynamic-batch"]
            for key in keys:
                ratios[key].append(number(moved, key) / best[seed][key])
            ratios["slo_attainment"].append(number(moved, "slo_attainment") / best_slo[seed])
            ahead += all(number(moved, key) < best[seed][key] for key in keys) and number(moved, "slo_attainment") > best_slo[seed]
        print(f"| {wait} | {ahead} of {len(SEEDS)} | {min(ratios['p95_response_s']):.2f}–{max(ratios['p95_response_s']):.2f}× "
              f"| {min(ratios['p99_response_s']):.2f}–{max(ratios['p99_response_s']):.2f}× "
              f"| {sum(ratios['mean_response_s']) / len(SEEDS):.2f}× | {sum(ratios['slo_attainment']) / len(SEEDS):.2f}× |")


TABLES = {"seed-mix": seed_mix, "upstream": upstream, "own": own, "think": think, "floor": floor, "matched": matched, "noise": noise}

if __name__ == "__main__":
    names = sys.argv[1:] or list(TABLES)
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        sys.exit(f"unknown table {unknown[0]!r}: allowed values are {', '.join(TABLES)}")
    require_binary()
    for index, name in enumerate(names):
        if index:
            print()
        print(f"## {name}", file=sys.stderr)
        TABLES[name]()
