"""API keys with the official `openai` SDK (it sends `api_key` as a Bearer token): tenants see only their jobs."""

import openai
import pytest
import requests
from openai import OpenAI


def test_api_keys_isolate_tenants(make_server):
    server = make_server(TURBOSERVE_AUTH_API_KEYS="acme:sk-acme-e2e-0001,globex:sk-globex-e2e-01")
    acme = OpenAI(api_key="sk-acme-e2e-0001", base_url=server.url + "/v1")
    globex = OpenAI(api_key="sk-globex-e2e-01", base_url=server.url + "/v1")

    video = acme.videos.create_and_poll(model="tiny-t2v", prompt="a tenant's fox", size="112x64", seconds="1",
                                        extra_body={"steps": 1}, poll_interval_ms=100)
    assert video.status == "completed"
    assert acme.videos.download_content(video.id).read()[4:8] == b"ftyp"
    assert [v.id for v in acme.videos.list().data] == [video.id]
    assert globex.videos.list().data == []
    with pytest.raises(openai.NotFoundError):
        globex.videos.retrieve(video.id)
    with pytest.raises(openai.AuthenticationError):
        OpenAI(api_key="sk-wrong-key-000", base_url=server.url + "/v1").videos.list()
    assert requests.get(server.url + "/v1/videos", timeout=10).status_code == 401
    assert requests.get(server.url + "/metrics", timeout=10).status_code == 200
