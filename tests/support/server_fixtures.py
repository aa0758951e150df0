"""The pytest fixtures every suite that drives a real `turboserve` process shares: the tiny models' directory, a
factory of servers that stops what it started, and a first-frame image for I2V requests. A suite's conftest imports
the ones it uses (pytest finds a fixture by its name in the conftest's namespace); none is defined twice."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from turboserve_harness import BINARY, Server


def require_binary():
    """Fails the test, saying how to build it, when the server binary is missing."""
    if not BINARY.exists():
        pytest.fail(f"build the server first: {BINARY} is missing (swift build)")


def ffprobe(path) -> str:
    """`codec,width,height,frames` of a video's first stream, as ffprobe counts them."""
    return subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
                           "stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0", str(path)],
                          capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    """Where the engine builds the tiny models once per session; every server of the session reads them."""
    return tmp_path_factory.mktemp("models")


def serving(tmp_path: Path, build):
    """The body of a server-factory fixture: yields `start(env=None, data_dir=None, start=True, **kwargs)`, which
    makes a server with `build(data_dir, env, **kwargs)` on a fresh data directory under `tmp_path` (or `data_dir`)
    and starts it unless `start` is false; every server it made is stopped when the test ends."""
    started = []

    def start(env=None, data_dir=None, start=True, **kwargs):
        directory = Path(data_dir) if data_dir else tmp_path / f"server-{len(started)}"
        directory.mkdir(parents=True, exist_ok=True)
        server = build(directory, env, **kwargs)
        started.append(server)
        return server.start() if start else server

    yield start
    for server in started:
        server.stop()


@pytest.fixture()
def make_server(tmp_path, models_dir):
    """Starts `turboserve serve` processes on the tiny models (`serving`; `kwargs` go to `Server`)."""
    require_binary()
    yield from serving(tmp_path, lambda directory, env, **kwargs: Server(directory, models_dir, env, **kwargs))


@pytest.fixture(scope="session")
def png(tmp_path_factory) -> Path:
    """A 64×64 first frame of noise (a fixed seed), so an I2V video of it is 64×64 by default."""
    import numpy as np
    from PIL import Image

    path = tmp_path_factory.mktemp("img") / "first-frame.png"
    Image.fromarray((np.random.RandomState(1).rand(64, 64, 3) * 255).astype("uint8")).save(path)
    return path
