"""Two engines on one node (`engines.devices: [cpu, cpu]`): two engine processes, one store, the queue spread over
both, every job done exactly once."""

import subprocess
import time
from pathlib import Path

import requests


def cpu_ticks(pid: str) -> int:
    """User + system CPU time of a process, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_two_engines_share_the_queue(make_server):
    # max_batch_size 1 → each worker holds at most 2 claimed jobs, so neither engine can take the whole queue.
    server = make_server({"TURBOSERVE_ENGINES_DEVICES": "cpu,cpu", "TURBOSERVE_SCHEDULER_MAX_BATCH_SIZE": "1"})
    engines = subprocess.run(["pgrep", "-f", "--", f"--work-dir {server.data_dir}/work"], capture_output=True, text=True).stdout.split()
    assert len(engines) == 2
    idle = {pid: cpu_ticks(pid) for pid in engines}
    ids = [requests.post(server.url + "/v1/videos", json={"prompt": f"job {i}", "steps": 2, "size": "112x64", "num_frames": 9},
                         timeout=10).json()["id"] for i in range(12)]
    videos = server.wait_all_ended(ids, timeout=240)
    assert all(v["status"] == "completed" for v in videos.values())
    worked = {pid: cpu_ticks(pid) - idle[pid] for pid in engines}
    assert all(ticks > 0 for ticks in worked.values()), worked  # both engines ran jobs
    metrics = requests.get(server.url + "/metrics", timeout=10).text
    succeeded = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                    if line.startswith("turboserve_jobs_total{") and 'status="succeeded"' in line)
    assert succeeded == 12


def test_jobs_held_by_a_removed_engine_are_recovered(make_server):
    """SIGKILL while both engines work, restart with one: the jobs the second engine held complete too."""
    server = make_server({"TURBOSERVE_ENGINES_DEVICES": "cpu,cpu", "TURBOSERVE_SCHEDULER_MAX_BATCH_SIZE": "1"})
    ids = [requests.post(server.url + "/v1/videos", json={"prompt": f"job {i}", "steps": 4, "num_frames": 33}, timeout=10).json()["id"]
           for i in range(6)]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        statuses = [requests.get(f"{server.url}/v1/videos/{i}", timeout=10).json()["status"] for i in ids]
        if statuses.count("in_progress") >= 2:
            break
        time.sleep(0.02)
    assert statuses.count("in_progress") >= 2, statuses
    server.kill()

    server.env = {"TURBOSERVE_ENGINES_DEVICES": "cpu"}
    server.start()
    videos = server.wait_all_ended(ids, timeout=240)
    assert {v["status"] for v in videos.values()} == {"completed"}
