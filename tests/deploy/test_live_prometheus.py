"""Against a real Prometheus scraping a live `turboserve serve` (tiny models, the real engine): every PromQL
expression of the dashboard, the alerts and the autoscalers runs, and each returns at least one series, or needs
a metric another branch is still adding (reported as pending, by name). The fleet roles get their own part,
skipped until the binary has `turboserve api`."""

import os
import signal
import subprocess
import time

import pytest
import requests

from conftest import REPO, is_pending
from expressions import alert_expressions, live_expressions
from live import start_prometheus, start_role, query, wait_until

CLASSES = ["interactive", "standard", "batch"]


def submit(url: str, **fields) -> str:
    response = requests.post(url + "/v1/videos", json={"prompt": "a red fox running through snow", "steps": 2, **fields}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["id"]


def finished(url: str, ids: list[str]) -> dict | None:
    videos = {i: requests.get(f"{url}/v1/videos/{i}", timeout=10).json()["status"] for i in ids}
    return videos if all(s in ("completed", "failed") for s in videos.values()) else None


def crash_engine_under_jobs(server, url: str) -> list[str]:
    """Jobs whose engine is killed under them fail (limits.max_attempts=1): failures by reason, engine restarts.
    A round whose jobs all finish before one is seen running is followed by another (at most five)."""
    for _ in range(5):
        jobs = [submit(url, priority="batch", steps=4) for _ in range(4)]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:   # poll fast: a tiny job runs for well under a second
            statuses = [requests.get(f"{url}/v1/videos/{j}", timeout=10).json()["status"] for j in jobs]
            if "in_progress" in statuses:
                for pid in server.children():   # the engine processes serve started
                    os.kill(pid, signal.SIGKILL)
                return jobs
            if all(s in ("completed", "failed") for s in statuses):
                break
    pytest.fail("never saw a job running to crash its engine under it")


@pytest.fixture(scope="module")
def live(binary, tmp_path_factory):
    directory = tmp_path_factory.mktemp("live")
    # one attempt: a crashed engine fails its jobs; a 1 s keep-alive and no preload: idle models get evicted
    server, url = start_role(binary, ["serve"], directory, {"TURBOSERVE_LIMITS_MAX_ATTEMPTS": "1",
                                                            "TURBOSERVE_MODEL_CACHE_KEEP_ALIVE": "1s",
                                                            "TURBOSERVE_MODEL_CACHE_PRELOAD": ""})
    prometheus, prom = start_prometheus(directory, [(url, {"namespace": "turboserve", "pod": "turboserve-0", "role": "serve"})])
    try:
        wait_until(lambda: query(prom, 'up{job="turboserve"} == 1'), 30, "first scrape")
        jobs = [submit(url, priority=c) for c in CLASSES for _ in range(2)]
        jobs += [submit(url, priority="interactive", model="tiny-t2v", size="64x64")]
        wait_until(lambda: finished(url, jobs), 300, "jobs finished")
        crashed = crash_engine_under_jobs(server, url)
        outcomes = wait_until(lambda: finished(url, crashed), 120, "the crashed jobs end")
        after = submit(url, priority="standard")
        wait_until(lambda: finished(url, [after]), 120, "a job after the engine restart")
        # windows and subqueries need samples: wait (bounded) until every expression that can have series has them;
        # the test below then names any that still have none
        expected = [expr for _, expr in live_expressions() if not is_pending(expr)]
        try:
            wait_until(lambda: all(query(prom, e) for e in expected), 150, "series for every expression")
        except TimeoutError:
            pass
        yield {"serve": url, "prometheus": prom, "directory": directory, "crashed": outcomes}
    finally:
        prometheus.stop()
        server.stop()


def test_single_node_probe_endpoints_answer(live):
    for path in ("/healthz", "/readyz", "/metrics"):
        assert requests.get(live["serve"] + path, timeout=5).status_code == 200, path


def test_a_crashed_engine_fails_its_jobs(live):
    assert "failed" in live["crashed"].values(), live["crashed"]


def test_alert_rules_load_and_evaluate_in_prometheus(live):
    groups = requests.get(live["prometheus"] + "/api/v1/rules", timeout=10).json()["data"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    assert len(rules) == len(alert_expressions()) and all(r["health"] == "ok" for r in rules), [(r["name"], r.get("lastError")) for r in rules]


def test_every_expression_returns_series(live):
    rows, empty, pending = [], [], []
    for source, expr in live_expressions():
        count = len(query(live["prometheus"], expr))   # a syntax error raises here, pending or not
        rows.append((count, source))
        if count == 0:
            (pending if is_pending(expr) else empty).append(f"{source}: {expr}")
    print(f"\n[live] {len(rows)} expressions evaluated against Prometheus; {len(rows) - len(empty) - len(pending)} return series, "
          f"{len(pending)} empty because they need metrics other branches are adding, {len(empty)} empty otherwise")
    for count, source in rows:
        print(f"[live] {count:3d} series  {source}")
    for line in pending:
        print(f"[live] pending: {line}")
    assert not empty, "no series (metric exported today):\n" + "\n".join(empty)


def test_render_dashboard(live, tmp_path):
    out = os.environ.get("DEPLOY_DASHBOARD_PNG") or str(tmp_path / "dashboard.png")
    python = os.environ.get("TURBOSERVE_DEPLOY_PYTHON", "python3")
    result = subprocess.run([python, str(REPO / "scripts/render-dashboard"), "--prometheus", live["prometheus"], "--out", out,
                             "--minutes", "5"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert os.path.getsize(out) > 50_000, "the PNG is suspiciously small"
    print(f"\n[render] {result.stdout.strip()}")


def fleet_roles_available(binary) -> bool:
    result = subprocess.run([str(binary), "api", "--help"], capture_output=True, text=True)
    return result.returncode == 0 and "USAGE: turboserve api" in result.stdout


def test_fleet_roles_scrape(binary, tmp_path):
    """Two api replicas + a worker on one store, each scraped on its own port, probes answered on that port;
    exactly one api replica exports the store-wide gauges, and when it goes the other takes over."""
    if not fleet_roles_available(binary):
        pytest.skip("fleet roles not in this binary yet: `turboserve api --help` shows no api subcommand")
    dsn = os.environ.get("TURBOSERVE_TEST_DATABASE") or os.environ.get("TURBOSERVE_TEST_POSTGRES")
    if not dsn:
        pytest.skip("api and worker need a shared PostgreSQL store (they refuse sqlite): set TURBOSERVE_TEST_POSTGRES")
    database = {"TURBOSERVE_STORAGE_DATABASE": dsn}
    subprocess.run([str(binary), "migrate"], env=dict(os.environ, **database), check=True, timeout=120)
    api, api_url = start_role(binary, ["api"], tmp_path, database, name="api")
    api_b, api_b_url = start_role(binary, ["api"], tmp_path, database, name="api-b")
    worker, worker_url = start_role(binary, ["worker", "--worker-id", "test-worker-0"], tmp_path, database, name="worker")
    prometheus, prom = start_prometheus(tmp_path, [(api_url, {"namespace": "turboserve", "role": "api", "pod": "api-a"}),
                                                   (api_b_url, {"namespace": "turboserve", "role": "api", "pod": "api-b"}),
                                                   (worker_url, {"namespace": "turboserve", "role": "worker", "pod": "worker-0"})])
    try:
        for url in (api_url, api_b_url, worker_url):
            assert requests.get(url + "/healthz", timeout=5).status_code == 200
        job = submit(api_url)
        wait_until(lambda: finished(api_url, [job]), 300, "a job through api → worker")
        wait_until(lambda: len(query(prom, 'up{job="turboserve"} == 1')) == 3, 30, "every role scraped")
        for role, metric in (("api", "turboserve_queue_depth_jobs"), ("worker", "turboserve_engine_plans_total")):
            assert query(prom, f'{metric}{{role="{role}"}}'), f"{role} does not export {metric}"
        exporters = {row["metric"]["pod"] for row in query(prom, 'turboserve_unfinished_jobs{role="api"}')}
        assert len(exporters) == 1, f"store-wide gauges come from exactly one api replica, not {sorted(exporters)}"
        assert not query(prom, 'turboserve_unfinished_jobs{role="worker"}'), "workers export only their own gauges"

        def exports(url):
            return "turboserve_unfinished_jobs{" in requests.get(url + "/metrics", timeout=5).text
        holder, other = (api, api_b_url) if exporters == {"api-a"} else (api_b, api_url)
        assert not exports(other)
        holder.stop()
        wait_until(lambda: exports(other), 30, "the remaining api replica takes over the store-wide gauges")
    finally:
        prometheus.stop()
        worker.stop()
        api_b.stop()
        api.stop()
