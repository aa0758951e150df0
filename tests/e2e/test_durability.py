"""Kill the server (SIGKILL) with jobs queued and in flight; after a restart every job completes exactly once, and
an Idempotency-Key replay still returns the same job."""

import sqlite3
import time

import requests


def test_sigkill_with_jobs_in_flight_loses_nothing(server):
    key_headers = {"Idempotency-Key": "durable-1"}
    first = requests.post(server.url + "/v1/videos", json={"prompt": "idempotent fox", "steps": 4}, headers=key_headers).json()
    ids = [first["id"]] + [
        requests.post(server.url + "/v1/videos", json={"prompt": f"job {i}", "steps": 4, "num_frames": 33, "model": "tiny-t2v"}).json()["id"]
        for i in range(7)
    ]
    # Kill once the engine is working on something and others are still queued.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        statuses = [requests.get(f"{server.url}/v1/videos/{i}").json()["status"] for i in ids]
        if "in_progress" in statuses and "queued" in statuses:
            break
        time.sleep(0.02)
    assert "in_progress" in statuses and "queued" in statuses, statuses
    server.kill()

    server.start()
    videos = server.wait_all_ended(ids)
    assert {v["status"] for v in videos.values()} == {"completed"}
    replay = requests.post(server.url + "/v1/videos", json={"prompt": "idempotent fox", "steps": 4}, headers=key_headers).json()
    assert replay["id"] == first["id"]

    database = sqlite3.connect(server.data_dir / "turboserve.sqlite")
    succeeded = dict(database.execute("SELECT job_id, COUNT(*) FROM job_events WHERE to_state = 'succeeded' GROUP BY job_id").fetchall())
    assert succeeded == {i: 1 for i in ids}
    assert database.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == len(ids)
    requeued = database.execute("SELECT COUNT(*) FROM job_events WHERE to_state = 'queued' AND reason_code = 'lease_expired'").fetchone()[0]
    assert requeued >= 1  # the job in flight was recovered, not restarted from nothing silently
