"""End-to-end tests against a real `turboserve serve` process (SQLite, the real engine with the tiny models)."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("TURBOSERVE_BIN", REPO / ".build" / "debug" / "turboserve"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server process on a data directory; can be killed and started again on the same directory."""

    def __init__(self, data_dir: Path, models_dir: Path, env: dict | None = None):
        self.data_dir = data_dir
        self.models_dir = models_dir
        self.env = env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self, timeout: float = 120.0):
        env = dict(os.environ, TURBOSERVE_MODELS_DIR=str(self.models_dir), **self.env)
        self.log = open(self.data_dir / f"serve-{int(time.time() * 1000)}.log", "w")
        self.process = subprocess.Popen([str(BINARY), "serve", "--port", str(self.port), "--data-dir", str(self.data_dir)],
                                        stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=REPO)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"server exited: {(self.data_dir / self.log.name).read_text() if False else open(self.log.name).read()}"
            try:
                if requests.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise TimeoutError("the server did not become ready")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        subprocess.run(["pkill", "-9", "-f", "--", f"--work-dir {self.data_dir}/work"], check=False)  # "--": the pattern starts with a dash

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def wait_all_finished(self, ids, timeout=300.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            videos = {i: requests.get(f"{self.url}/v1/videos/{i}", timeout=10).json() for i in ids}
            if all(v["status"] in ("completed", "failed") for v in videos.values()):
                return videos
            time.sleep(0.25)
        raise TimeoutError(f"not finished: {[i for i, v in videos.items() if v['status'] not in ('completed', 'failed')]}")


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture()
def server(tmp_path, models_dir):
    if not BINARY.exists():
        pytest.fail(f"build the server first: {BINARY} is missing (swift build)")
    instance = Server(tmp_path, models_dir).start()
    yield instance
    instance.stop()


@pytest.fixture()
def make_server(tmp_path, models_dir):
    """Starts servers with extra environment (TURBOSERVE_* settings); stops them all at the end."""
    if not BINARY.exists():
        pytest.fail(f"build the server first: {BINARY} is missing (swift build)")
    started = []

    def start(**env):
        data_dir = tmp_path / f"server-{len(started)}"
        data_dir.mkdir()
        started.append(Server(data_dir, models_dir, env).start())
        return started[-1]

    yield start
    for instance in started:
        instance.stop()


@pytest.fixture(scope="session")
def png(tmp_path_factory) -> Path:
    import numpy as np
    from PIL import Image

    path = tmp_path_factory.mktemp("img") / "first-frame.png"
    Image.fromarray((np.random.RandomState(1).rand(64, 64, 3) * 255).astype("uint8")).save(path)
    return path


def ffprobe(path) -> str:
    return subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
                           "stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0", str(path)],
                          capture_output=True, text=True, check=True).stdout.strip()
