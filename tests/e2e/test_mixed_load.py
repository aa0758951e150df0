"""50 mixed jobs submitted at once all complete; reports the engine busy ratio and model loads from /metrics."""

import re
from concurrent.futures import ThreadPoolExecutor

import requests
from turboserve_harness import metric, wait_for


def test_fifty_mixed_jobs_complete(server, png):
    def submit(i: int) -> str:
        if i % 5 == 4:
            with open(png, "rb") as image:
                return requests.post(server.url + "/v1/videos", data={"prompt": f"i2v {i}", "model": "tiny-i2v", "steps": str(2 + i % 3)},
                                     files={"input_reference": ("f.png", image, "image/png")}).json()["id"]
        body = {"prompt": f"t2v {i}", "model": "tiny-t2v", "steps": 1 + i % 4, "num_frames": [9, 17][i % 2],
                "priority": ["interactive", "standard", "batch"][i % 3]}
        return requests.post(server.url + "/v1/videos", json=body).json()["id"]

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(submit, range(50)))
    videos = server.wait_all_ended(ids, timeout=600)
    assert sum(v["status"] == "completed" for v in videos.values()) == 50
    text = requests.get(server.url + "/metrics").text
    assert metric(text, "turboserve_jobs_total") == 50
    busy = metric(text, "turboserve_engine_busy_while_pending_ratio")
    loads = metric(text, "turboserve_model_loads_total")
    print(f"\n50 mixed jobs: engine busy ratio while work was pending {busy:.3f}, model loads {loads:.0f}")
    assert 0 < busy <= 1
    assert loads >= 2  # tiny-t2v and the i2v experts
    # The core's deadline outcomes: the overload gauges exist for the worker, and its next heartbeat shows in
    # /v1/operations how the last 20 (the window) of the 50 finished jobs fared.
    assert re.search(r'^turboserve_scheduler_overloaded\{worker="[^"]+"\} [01]\.0$', text, re.M), "overload gauge missing"
    miss = metric(text, "turboserve_scheduler_deadline_miss_ratio")
    assert 0 <= miss <= 1
    def health():
        workers = requests.get(server.url + "/v1/operations").json()["workers"]
        return workers[0].get("deadline_health") if workers else None
    wait_for(lambda: (health() or {}).get("jobs_counted") == 20, timeout=60, what="a heartbeat with the deadline outcomes of 20 jobs")
    reported = health()
    assert 0 <= reported["jobs_missed"] <= 20 and isinstance(reported["overloaded"], bool)
    print(f"deadline outcomes of the last 20 jobs: {reported['jobs_missed']} missed, overloaded {reported['overloaded']}")
