"""Issue 14 item 11: the wire requests vLLM-Omni's serving benchmark clients send (read from their public source;
none of their code is here), against a real `turboserve serve` with the tiny models — a urlencoded text-only form
with no `model` (aiohttp's encoding of a form without a file), its one-frame warm-up, a multipart form with an
image and no `model`, the same on `/v1/videos/sync`, the poll → content → DELETE sequence — each checked: the job
completes, the job object carries `stage_durations`, `param` names the field as sent, DELETE deletes."""

import requests

from conftest import ffprobe
from turboserve_harness import wait_for

FORM = {"prompt": "Random prompt 0 for benchmarking diffusion models", "height": "64", "width": "64",
        "num_frames": "9", "num_inference_steps": "2", "seed": "0", "fps": "16"}


def finish(server, job: dict) -> dict:
    def ended():
        video = requests.get(f"{server.url}/v1/videos/{job['id']}", timeout=10).json()
        return video if video["status"] in ("completed", "failed") else None

    return wait_for(ended, 240, f"job {job['id']} to end", interval=0.2)


def test_vllm_omni_wire_requests_succeed_and_report_stage_durations(server, png, tmp_path):
    url = server.url + "/v1/videos"

    # The warm-up: text-only urlencoded, one frame, no model.
    warmup = requests.post(url, data={**FORM, "num_frames": "1"}, timeout=30)
    assert warmup.status_code == 200, warmup.text
    assert warmup.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert warmup.json()["model"] == "tiny-t2v" and warmup.json()["num_frames"] == 1

    text = requests.post(url, data=FORM, timeout=30)
    assert text.status_code == 200, text.text
    with open(png, "rb") as image:
        i2v = requests.post(url, data={k: v for k, v in FORM.items() if k not in ("width", "height")},
                            files={"input_reference": ("first-frame.png", image, "image/png")}, timeout=30)
    assert i2v.status_code == 200, i2v.text
    assert i2v.json()["model"] == "tiny-i2v", "an image without a model goes to the default image-to-video model"

    for job, frames in ((warmup.json(), 1), (text.json(), 9), (i2v.json(), 9)):
        video = finish(server, job)
        assert video["status"] == "completed", video
        stages = video["stage_durations"]
        assert {"admit", "denoise", "decode", "mux"} <= set(stages), stages
        assert all(seconds >= 0 for seconds in stages.values()) and stages["denoise"] > 0
        assert "peak_memory_mb" not in video, "the CPU engine measures no peak memory: absent, not 0"
        content = requests.get(f"{url}/{job['id']}/content", timeout=30)
        assert content.status_code == 200
        (tmp_path / f"{job['id']}.mp4").write_bytes(content.content)
        assert ffprobe(tmp_path / f"{job['id']}.mp4").endswith(f",{frames}")
        # The benchmark deletes every job after reading its content: afterwards it is gone everywhere.
        assert requests.delete(f"{url}/{job['id']}", timeout=10).json() == {"id": job["id"], "object": "video.deleted", "deleted": True}
        for suffix in ("", "/content", "/events"):
            gone = requests.get(f"{url}/{job['id']}{suffix}", timeout=10)
            assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
    listed = {v["id"] for v in requests.get(url, params={"limit": 100}, timeout=10).json()["data"]}
    assert not listed & {warmup.json()["id"], text.json()["id"], i2v.json()["id"]}

    # The replica benchmark's endpoint: the same form on /v1/videos/sync answers with the MP4.
    synced = requests.post(url + "/sync", data=FORM, timeout=240)
    assert synced.status_code == 200, synced.text[:500]
    assert synced.headers["Content-Type"] == "video/mp4" and synced.headers["X-Video-Id"].startswith("video_")

    # An error about a field names it as the client sent it.
    refused = requests.post(url, data={**FORM, "num_inference_steps": "50"}, timeout=30)
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "num_inference_steps"
    assert "num_inference_steps" in refused.json()["error"]["message"]
