"""What the simulator scripts under bench/ share: where the `turboserve` binary is, the baseline policies, and one
`turboserve bench` run into bench-out/ read back as rows per policy."""
import csv
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("TURBOSERVE", os.path.join(ROOT, ".build/release/turboserve"))
BASELINES = ["serial", "seed", "dynamic-batch"]


def bench(out, *arguments):
    """Run `turboserve bench` into bench-out/<out> and return its summary rows by policy (summary.csv, with the
    scalar fields of results.json added)."""
    folder = os.path.join(ROOT, "bench-out", out)
    subprocess.run([BIN, "bench", *arguments, "--out", folder], cwd=ROOT, check=True, capture_output=True)
    with open(os.path.join(folder, "summary.csv")) as file:
        rows = {row["policy"]: {k: v for k, v in row.items()} for row in csv.DictReader(file)}
    with open(os.path.join(folder, "results.json")) as file:
        for policy, result in json.load(file).items():
            rows[policy].update({k: v for k, v in result.items() if not isinstance(v, (dict, list))})
    return rows


def require_binary():
    if not os.access(BIN, os.X_OK):
        sys.exit(f"{BIN} not found: run `swift build -c release --product turboserve` first (or set TURBOSERVE)")
