"""Processes for the live tests: a `turboserve` role on a free loopback port and a Prometheus scraping it, each
started in a temp dir, polled to readiness with a deadline, stopped by its own pid."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests
import yaml

from conftest import DEPLOY


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str, process: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what}: the process exited ({process.returncode}): {log.read_text()[-3000:] if log else ''}")
        try:
            result = check()
            if result:
                return result
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{what}: not within {timeout} s{': ' + log.read_text()[-3000:] if log else ''}")


class Process:
    def __init__(self, argv: list[str], directory: Path, env: dict | None = None, name: str = "process"):
        self.log = directory / f"{name}.log"
        self.handle = open(self.log, "w")
        self.process = subprocess.Popen(argv, stdout=self.handle, stderr=subprocess.STDOUT, cwd=directory,
                                        env=dict(os.environ, **(env or {})))

    def children(self) -> list[int]:
        pids = []
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            pids += [int(p) for p in (task / "children").read_text().split()]
        return pids

    def stop(self, timeout: float = 30):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.handle.close()


def start_role(binary: Path, args: list[str], directory: Path, env: dict | None = None, name: str = "serve") -> tuple[Process, str]:
    """`turboserve <args> --port P` with its data and models under `directory`; returns once /readyz is 200."""
    port = free_port()
    env = {"TURBOSERVE_MODELS_DIR": str(directory / "models"), "TURBOSERVE_STORAGE_DATA_DIR": str(directory / "data"),
           "TURBOSERVE_ENGINE_FAKE_NVML": "1", **(env or {})}
    process = Process([str(binary), *args, "--port", str(port)], directory, env, name)
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: requests.get(url + "/readyz", timeout=2).status_code == 200, 180, f"{name} ready", process.process, process.log)
    return process, url


def start_prometheus(directory: Path, targets: list[tuple[str, dict]]) -> tuple[Process, str]:
    """Prometheus on a free loopback port scraping `targets` (url, labels) every second with TurboServe's rules.
    The labels stand in for the ones the ServiceMonitor's relabelings give in a cluster (namespace, pod, role)."""
    port = free_port()
    config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
              "rule_files": [str(DEPLOY / "prometheus" / "turboserve-rules.yaml")],
              "scrape_configs": [{"job_name": "turboserve", "static_configs": [
                  {"targets": [url.removeprefix("http://")], "labels": labels} for url, labels in targets]}]}
    (directory / "prometheus.yml").write_text(yaml.safe_dump(config))
    process = Process(["prometheus", f"--config.file={directory / 'prometheus.yml'}", f"--storage.tsdb.path={directory / 'tsdb'}",
                       f"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle"], directory, name="prometheus")
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: requests.get(url + "/-/ready", timeout=2).status_code == 200, 60, "prometheus ready", process.process, process.log)
    return process, url


def query(prometheus: str, expr: str) -> list[dict]:
    response = requests.get(prometheus + "/api/v1/query", params={"query": expr}, timeout=10)
    body = response.json()
    if body.get("status") != "success":
        raise ValueError(f"{expr}: {body.get('errorType')}: {body.get('error')}")
    return body["data"]["result"]
