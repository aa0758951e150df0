"""Dispatch latency of a fleet: create → admitted on an idle worker, with the store's notifications and with
polling only, side by side in one run on one PostgreSQL (two schemas, one fleet each: 1 api + 1 worker with a
tiny engine). Each worker's first job (which also loads the model) is reported apart as the cold start; then jobs
alternate between the two fleets, one at a time, each created only once both workers are idle again. Latency is
the job's `admitted` event minus its creation, both on the database clock.

The latency is split with the engine plans each worker reports in its heartbeat (`workers.activity_json`, plan
start times on the same machine's clock): `to first plan` is create → the first engine plan of the job starts
(commit, notification or poll, the claim, the worker's planning), `engine` is the plans up to admission (the
`admit` call: the prompt's text encoding; a `load` if the model was not resident), `record` is the end of the
admit plan → the `admitted` event's transaction starts (the worker's event recorder).

    engine/.venv/bin/python tests/fleet/bench_dispatch.py [--jobs 40]     # TURBOSERVE_BIN picks the build
"""

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

from fleet_harness import Fleet, TestPostgres, wait_for  # noqa: E402
from turboserve_harness import BINARY  # noqa: E402

ENV = {"TURBOSERVE_ENGINES_DEVICES": "cpu", "TURBOSERVE_ENGINES_THREADS_PER_ENGINE": "1"}


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def plans_of(fleet, end: float, timeout: float = 30):
    """The engine plans (start, seconds) of the fleet's worker, from a heartbeat written after `end`."""
    wait_for(lambda: float(fleet.query_one("SELECT COALESCE(max(extract(epoch FROM heartbeat_at)), 0) FROM workers")[0]) > end,
             timeout, "a heartbeat after the last job")
    (activity,) = fleet.query_one("SELECT activity_json FROM workers ORDER BY heartbeat_at DESC LIMIT 1")
    return sorted((plan["startedAt"], plan["seconds"]) for plan in json.loads(activity)["timeline"])


def split(spans, plans):
    """Per job whose plans the timeline still holds: create → first plan, the plans until admission, last plan's
    end → admitted (ms)."""
    to_first, engine, record = [], [], []
    for created, admitted in spans:
        mine = [(start, seconds) for start, seconds in plans if created <= start <= admitted]
        if not mine:
            continue
        to_first.append((mine[0][0] - created) * 1000)
        engine.append(sum(seconds for _, seconds in mine) * 1000)
        record.append((admitted - (mine[-1][0] + mine[-1][1])) * 1000)
    return to_first, engine, record


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
        def dispatch(fleet, prompt):
            job = fleet.api(0).create(prompt=prompt, steps=1, num_frames=9)["id"]
            wait_for(lambda: fleet.api(0).video(job)["status"] == "completed", 60, "the job to finish")
            created, admitted = fleet.query_one(
                f"SELECT extract(epoch FROM j.created_at), extract(epoch FROM e.at) FROM job_events e JOIN jobs j ON j.id = e.job_id "
                f"WHERE e.job_id = '{job}' AND e.to_state = 'admitted' ORDER BY e.id LIMIT 1")
            return float(created), float(admitted)

        # The first job of each worker also loads the model (its weights are not resident yet): reported apart,
        # as the cold start, not as dispatch.
        cold = {mode: dispatch(fleet, "warm-up") for mode, fleet in fleets.items()}
        spans = {mode: [] for mode in fleets}  # (created, admitted) per job, Unix seconds on the database clock
        for i in range(options.jobs):
            for mode, fleet in fleets.items():
                spans[mode].append(dispatch(fleet, f"dispatch {i}"))
        for mode, (created, admitted) in cold.items():
            print(f"cold start ({mode}: the worker's first job, model load included): {(admitted - created) * 1000:.1f} ms")
        print(f"dispatch latency, create → admitted on an idle worker, model resident ({options.jobs} jobs per mode, ms; {BINARY})")
        print(f"{'wake-up':<10} {'p50':>8} {'p99':>8} {'max':>8}   split at p50 / p99 (ms): to first plan | engine | record")
        for mode, fleet in fleets.items():
            latencies = [(admitted - created) * 1000 for created, admitted in spans[mode]]
            parts = split(spans[mode], plans_of(fleet, end=max(admitted for _, admitted in spans[mode])))
            summary = " | ".join(f"{statistics.median(v):.1f} / {percentile(v, 0.99):.1f}" if v else "n/a" for v in parts)
            print(f"{mode:<10} {statistics.median(latencies):>8.1f} {percentile(latencies, 0.99):>8.1f} {max(latencies):>8.1f}   {summary}")
    finally:
        for fleet in fleets.values():
            fleet.stop()
        postgres.stop()


if __name__ == "__main__":
    main()
