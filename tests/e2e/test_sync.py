"""vLLM-Omni's `POST /v1/videos/sync`: one request in, the finished MP4 out (real server + engine)."""

import re
from concurrent.futures import ThreadPoolExecutor

import requests

from conftest import ffprobe
from turboserve_harness import wait_for


def test_sync_returns_a_playable_mp4(server, tmp_path):
    form = {"prompt": "a lighthouse at dusk", "model": "tiny-t2v", "width": "112", "height": "64",
            "num_frames": "9", "num_inference_steps": "2", "seed": "3"}
    # multipart/form-data, as `curl -F` and vLLM-Omni's clients send it
    response = requests.post(server.url + "/v1/videos/sync", timeout=120, files={k: (None, v) for k, v in form.items()})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "video/mp4"
    video_id = response.headers["x-video-id"]
    path = tmp_path / "sync.mp4"
    path.write_bytes(response.content)
    assert ffprobe(path) == "h264,112,64,9"
    video = requests.get(f"{server.url}/v1/videos/{video_id}", timeout=10).json()
    assert video["status"] == "completed" and video["steps"] == 2


def test_sync_json_and_bad_input(server):
    ok = requests.post(server.url + "/v1/videos/sync", json={"prompt": "rain", "steps": 1, "size": "112x64"}, timeout=120)
    assert ok.status_code == 200 and ok.content[4:8] == b"ftyp"
    bad = requests.post(server.url + "/v1/videos/sync", json={"prompt": "rain", "steps": 7}, timeout=30)
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "steps"
    assert "x-video-id" not in bad.headers


def test_metrics_count_the_progress_readers_of_a_replica(make_no_engine_server):
    """An event stream and a waiting sync request each count as a reader of their job while they are open, and no
    longer once they end (a client that left is noticed at the next keep-alive)."""
    server = make_no_engine_server({"TURBOSERVE_LIMITS_EVENTS_HEARTBEAT_SECONDS": "1", "TURBOSERVE_LIMITS_SYNC_TIMEOUT_SECONDS": "8"})

    def gauges():
        text = requests.get(server.url + "/metrics", timeout=10).text
        found = dict(re.findall(r"^(turboserve_progress_(?:readers|followed_jobs)) (\S+)$", text, re.MULTILINE))
        return {name: float(value) for name, value in found.items()}

    queued = requests.post(server.url + "/v1/videos", json={"prompt": "watched"}, timeout=10).json()["id"]
    with ThreadPoolExecutor(1) as pool, requests.get(f"{server.url}/v1/videos/{queued}/events", stream=True, timeout=30) as stream:
        assert next(line for line in stream.iter_lines(decode_unicode=True) if line.startswith("data: "))
        waiting = pool.submit(requests.post, server.url + "/v1/videos/sync", json={"prompt": "waited for"}, timeout=60)
        wait_for(lambda: gauges() == {"turboserve_progress_readers": 2, "turboserve_progress_followed_jobs": 2}, 10,
                 "one stream and one sync request counted, on two jobs")
    assert waiting.result().status_code == 202  # no engine: the sync request gives up with its video, still queued
    wait_for(lambda: gauges() == {"turboserve_progress_readers": 0, "turboserve_progress_followed_jobs": 0}, 10,
             "both readers gone from the gauges")
