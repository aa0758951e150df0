"""vLLM-Omni's `POST /v1/videos/sync`: one request in, the finished MP4 out (real server + engine)."""

import requests

from conftest import ffprobe


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
