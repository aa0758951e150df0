"""Dispatch latency of a fleet: create → admitted on an idle worker, with the store's notifications and with
polling only, side by side in one run on one PostgreSQL (two schemas, one fleet each: 1 api + 1 worker with a
tiny engine). Jobs alternate between the two fleets, one at a time, each created only once both workers are idle
again. Latency is the job's `admitted` event minus its creation, both on the database clock.

    engine/.venv/bin/python tests/fleet/bench_dispatch.py [--jobs 40]
"""

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

from fleet_harness import Fleet, TestPostgres, wait_for  # noqa: E402

ENV = {"TURBOSERVE_ENGINES_DEVICES": "cpu", "TURBOSERVE_ENGINES_THREADS_PER_ENGINE": "1"}


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=40, help="jobs per mode")
    options = parser.parse_args()
    postgres = TestPostgres()
    root = Path(tempfile.mkdtemp(prefix="turboserve-dispatch-"))
    fleets = {}
    try:
        for mode in ("signals", "polling"):
            fleet = Fleet(root / mode, root / "models", postgres, ENV, schema=f"dispatch_{mode}")
            fleet.migrate()
            fleet.add_worker(f"bench-{mode}", args=["--wake", mode])
            fleet.add_api()
            fleets[mode] = fleet
        latencies = {mode: [] for mode in fleets}
        for i in range(options.jobs):
            for mode, fleet in fleets.items():
                job = fleet.api(0).create(prompt=f"dispatch {i}", steps=1, num_frames=9)["id"]
                wait_for(lambda: fleet.api(0).video(job)["status"] == "completed", 60, "the job to finish")
                (seconds,) = fleet.query_one(
                    f"SELECT extract(epoch FROM e.at - j.created_at) FROM job_events e JOIN jobs j ON j.id = e.job_id "
                    f"WHERE e.job_id = '{job}' AND e.to_state = 'admitted' ORDER BY e.id LIMIT 1")
                latencies[mode].append(float(seconds) * 1000)
        print(f"dispatch latency, create → admitted on an idle worker ({options.jobs} jobs per mode, ms)")
        print(f"{'wake-up':<10} {'p50':>8} {'p99':>8} {'max':>8}")
        for mode, values in latencies.items():
            print(f"{mode:<10} {statistics.median(values):>8.1f} {percentile(values, 0.99):>8.1f} {max(values):>8.1f}")
    finally:
        for fleet in fleets.values():
            fleet.stop()
        postgres.stop()


if __name__ == "__main__":
    main()
