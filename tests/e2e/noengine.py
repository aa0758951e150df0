"""A `turboserve serve --no-engine` process for tests of the HTTP layer alone (no engine, jobs stay queued).

Ready as soon as it listens; stopped with SIGTERM. Imported by the hostile-input, tenant and schemathesis tests."""

import os
import signal
import subprocess
import time
from pathlib import Path

import requests

from conftest import BINARY, REPO, free_port


class NoEngineServer:
    def __init__(self, data_dir: Path, env: dict | None = None):
        self.data_dir = data_dir
        self.env = env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self, timeout: float = 60.0):
        env = dict(os.environ, **self.env)
        self.log_path = self.data_dir / f"serve-{int(time.time() * 1000)}.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen([str(BINARY), "serve", "--no-engine", "--port", str(self.port), "--data-dir", str(self.data_dir)],
                                        stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=REPO)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"server exited: {self.log_path.read_text()}"
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise TimeoutError("the server did not start listening")

    def alive(self) -> bool:
        return self.process.poll() is None and requests.get(self.url + "/healthz", timeout=5).status_code == 200

    def stop(self, timeout: float = 30.0) -> int:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode
