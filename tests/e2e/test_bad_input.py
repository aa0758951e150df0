"""Every invalid field gets a 4xx naming it; nothing gets a 5xx."""

import pytest
import requests

CASES = [
    ({"prompt": "p", "model": "no-such-model"}, "model"),
    ({"prompt": "p", "size": "1920x1080"}, "size"),
    ({"prompt": "p", "steps": 0}, "steps"),
    ({"prompt": "p", "steps": 5}, "steps"),
    ({"prompt": "p", "num_frames": 16}, "num_frames"),
    ({"prompt": "p", "sampler": "euler"}, "sampler"),
    ({"prompt": "p", "model": "tiny-i2v"}, "input_reference"),
]


@pytest.mark.parametrize("body,field", CASES)
def test_invalid_fields_are_named(server, body, field):
    response = requests.post(server.url + "/v1/videos", json=body)
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["param"] == field


def test_malformed_json_oversize_and_non_image_uploads(server):
    assert requests.post(server.url + "/v1/videos", data="{oops", headers={"Content-Type": "application/json"}).status_code == 400
    not_image = requests.post(server.url + "/v1/videos", data={"prompt": "p", "model": "tiny-i2v"}, files={"input_reference": ("a.png", b"plain text", "image/png")})
    assert not_image.status_code == 400 and not_image.json()["error"]["param"] == "input_reference"
    huge = requests.post(server.url + "/v1/videos", data={"prompt": "p", "model": "tiny-i2v"}, files={"input_reference": ("a.png", b"\x89PNG\r\n\x1a\n" + b"0" * (17 << 20), "image/png")})
    assert huge.status_code == 413
    missing = requests.get(server.url + "/v1/videos/video_missing")
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "video_id"
