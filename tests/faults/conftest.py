"""The fault-injection suite: each test makes one fault happen to a real `turboserve serve` with the real engine
(tiny models) and records a row — fault, jobs, completed once, failed (codes), unfinished, duplicated — printed as
one table at the end of the run (and written to $TURBOSERVE_FAULT_TABLE if set)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

from turboserve_harness import BINARY, FaultRow, Server, render_table, write_summary  # noqa: E402

ROWS: list[FaultRow] = []


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture()
def make_server(tmp_path, models_dir):
    """Starts servers with extra TURBOSERVE_* environment on a fresh data directory (or `data_dir`)."""
    if not BINARY.exists():
        pytest.fail(f"build the server first: {BINARY} is missing (swift build)")
    started = []

    def start(env=None, data_dir=None, start=True, **kwargs):
        directory = Path(data_dir) if data_dir else tmp_path / f"server-{len(started)}"
        directory.mkdir(parents=True, exist_ok=True)
        server = Server(directory, models_dir, env, **kwargs)
        started.append(server)
        return server.start() if start else server

    yield start
    for server in started:
        server.stop()


@pytest.fixture()
def record_row():
    """Adds a row to the table and checks the promise of every row: nothing unfinished, nothing duplicated."""

    def record(row: FaultRow):
        ROWS.append(row)
        assert row.unfinished == 0, f"{row.fault}: {row.unfinished} unfinished"
        assert row.duplicated == 0, f"{row.fault}: {row.duplicated} duplicated"

    return record


@pytest.fixture(scope="session")
def png(tmp_path_factory) -> Path:
    import numpy as np
    from PIL import Image

    path = tmp_path_factory.mktemp("img") / "frame.png"
    Image.fromarray((np.random.RandomState(3).rand(48, 64, 3) * 255).astype("uint8")).save(path)
    return path


def pytest_terminal_summary(terminalreporter):
    if not ROWS:
        return
    write_summary(terminalreporter, "fault-injection summary", render_table(ROWS), "TURBOSERVE_FAULT_TABLE")
