"""API keys with the official `openai` SDK (it sends `api_key` as a Bearer token): tenants see only their jobs."""

import openai
import pytest
import requests
from openai import OpenAI


def test_api_keys_isolate_tenants(make_server):
    server = make_server({"TURBOSERVE_AUTH_API_KEYS": "acme:sk-acme-e2e-0001,globex:sk-globex-e2e-01"})
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
    # /metrics needs an operator key once keys are on (auth.metrics_open keeps it open).
    assert requests.get(server.url + "/metrics", timeout=10).status_code == 401


KEYS = "acme:sk-acme-e2e-0001,globex:sk-globex-e2e-01"
ACME = {"Authorization": "Bearer sk-acme-e2e-0001"}
GLOBEX = {"Authorization": "Bearer sk-globex-e2e-01"}
OPERATOR = {"Authorization": "Bearer op-e2e-secret-01"}


@pytest.fixture()
def keyed(make_no_engine_server):
    """`keyed(**env)`: a started no-engine server with the tenants' and the operator's keys, and that environment."""
    return lambda **env: make_no_engine_server({"TURBOSERVE_AUTH_API_KEYS": KEYS, "TURBOSERVE_AUTH_OPERATOR_KEYS": "op-e2e-secret-01", **env})


def test_another_tenants_video_is_404_on_every_route(keyed):
    server = keyed()
    video = requests.post(server.url + "/v1/videos", json={"prompt": "acme's"}, headers=ACME, timeout=10).json()["id"]
    routes = [("GET", f"/v1/videos/{video}"), ("GET", f"/v1/videos/{video}/content"), ("GET", f"/v1/videos/{video}/content?variant=thumbnail"),
              ("GET", f"/v1/videos/{video}/events"), ("DELETE", f"/v1/videos/{video}")]
    for method, path in routes:
        answer = requests.request(method, server.url + path, headers=GLOBEX, timeout=10)
        assert answer.status_code == 404, (method, path, answer.status_code)
        assert answer.json()["error"]["code"] == "not_found"
    assert requests.get(server.url + "/v1/videos", headers=GLOBEX, timeout=10).json()["data"] == []
    assert requests.get(server.url + f"/v1/videos?after={video}", headers=GLOBEX, timeout=10).status_code == 404
    # /v1/videos/sync under the same Idempotency-Key makes globex's own job (its isolation is covered in the Swift
    # suite: without an engine the sync call only times out).
    assert requests.get(server.url + f"/v1/videos/{video}", headers=ACME, timeout=10).json()["status"] == "queued"


def test_operator_routes_need_an_operator_key_and_odd_paths_do_not_bypass(keyed):
    server = keyed()
    requests.post(server.url + "/v1/videos", json={"prompt": "acme's"}, headers=ACME, timeout=10)
    for path in ["/v1/operations", "//v1/operations", "///v1/operations", "//v1//operations", "//v1/models", "/v1//models", "/%76%31/operations"]:
        answer = requests.get(server.url + path, timeout=10)
        assert answer.status_code in (401, 404), (path, answer.status_code)
        assert "error" in answer.json()
    assert requests.get(server.url + "/v1/operations", headers=ACME, timeout=10).status_code == 403
    assert requests.get(server.url + "/metrics", headers=ACME, timeout=10).status_code == 403
    operations = requests.get(server.url + "/v1/operations", headers=OPERATOR, timeout=10)
    assert operations.status_code == 200 and "data_dir" not in operations.text and str(server.data_dir) not in operations.text
    metrics = requests.get(server.url + "/metrics", headers=OPERATOR, timeout=10)
    assert metrics.status_code == 200 and "turboserve_http_requests_total" in metrics.text
    assert 'route="/v1/operations"' in metrics.text


def test_metrics_open_keeps_metrics_without_a_key(keyed):
    server = keyed(TURBOSERVE_AUTH_METRICS_OPEN="true")
    assert requests.get(server.url + "/metrics", timeout=10).status_code == 200
    assert requests.get(server.url + "/v1/operations", timeout=10).status_code == 401


def test_one_tenant_flooding_is_limited_while_another_is_served(keyed):
    server = keyed(TURBOSERVE_LIMITS_REQUESTS_PER_SECOND="5", TURBOSERVE_LIMITS_BURST="10", TURBOSERVE_LIMITS_MAX_QUEUED_PER_TENANT="5")
    statuses = [requests.post(server.url + "/v1/videos", json={"prompt": "flood", "priority": "batch"}, headers=ACME, timeout=10) for _ in range(30)]
    codes = [answer.status_code for answer in statuses]
    assert codes.count(200) == 5, codes
    limited = [answer for answer in statuses if answer.status_code == 429]
    assert {answer.json()["error"]["code"] for answer in limited} == {"tenant_queue_full", "rate_limit_exceeded"}
    assert all(int(answer.headers["Retry-After"]) >= 1 for answer in limited)
    mine = requests.post(server.url + "/v1/videos", json={"prompt": "mine", "priority": "interactive"}, headers=GLOBEX, timeout=10)
    assert mine.status_code == 200 and mine.json()["priority"] == "interactive"
    metrics = requests.get(server.url + "/metrics", headers=OPERATOR, timeout=10).text
    assert 'turboserve_rate_limited_requests_total{reason="rate_limit_exceeded"}' in metrics
    assert 'turboserve_rate_limited_requests_total{reason="tenant_queue_full"}' in metrics
