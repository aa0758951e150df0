import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ENGINE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ENGINE_DIR))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    """The tiny profiles, built once per test session by the engine's own builder."""
    from turboserve_engine.tiny import ensure_tiny

    directory = tmp_path_factory.mktemp("models")
    ensure_tiny(directory)
    return directory


@pytest.fixture()
def engine(models_dir, tmp_path):
    from turboserve_engine.engine import Engine

    return Engine(models_dir, tmp_path / "work", device="cpu", threads=1)


@pytest.fixture(scope="session")
def image_path(tmp_path_factory) -> str:
    import numpy as np
    from PIL import Image

    path = tmp_path_factory.mktemp("images") / "input.png"
    Image.fromarray((np.random.RandomState(0).rand(48, 80, 3) * 255).astype("uint8")).save(path)
    return str(path)


def write_png_header(path: Path, width: int, height: int) -> str:
    """A valid-looking PNG whose header declares width×height (8-bit RGB) over a tiny IDAT: a small file that claims
    to be a huge image (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    return str(path)


def job_spec(job_id: str, model: str = "tiny-t2v", **overrides) -> dict:
    spec = {"job_id": job_id, "model": model, "prompt": "a red fox running through snow", "width": 64, "height": 64,
            "frames": 9, "steps": 4, "seed": 7, "sampler": "sde"}
    spec.update(overrides)
    return spec


class EngineProcess:
    """`python -m turboserve_engine` as the Swift bridge runs it: one request line in, one reply line out."""

    def __init__(self, models_dir: Path, work_dir: Path, env: dict | None = None):
        env = dict(os.environ, PYTHONPATH=str(ENGINE_DIR), **(env or {}))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "turboserve_engine", "--models-dir", str(models_dir), "--work-dir", str(work_dir), "--device", "cpu", "--threads", "1"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.next_id = 0

    def raw(self, line: str) -> dict:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def call(self, op: str, **args) -> dict:
        self.next_id += 1
        reply = self.raw(json.dumps({"id": self.next_id, "op": op, "args": args}))
        assert reply["id"] == self.next_id
        return reply

    def close(self) -> str:
        self.process.stdin.close()
        self.process.wait(timeout=30)
        rest = self.process.stdout.read()
        self.process.stdout.close()
        stderr = self.process.stderr.read()
        self.process.stderr.close()
        assert rest == "", f"stdout carried non-protocol output: {rest!r}"
        return stderr


@pytest.fixture()
def engine_process(models_dir, tmp_path):
    process = EngineProcess(models_dir, tmp_path / "work")
    yield process
    if process.process.poll() is None:
        process.close()
