"""The fleet suite: real PostgreSQL, two `turboserve api` replicas and two `turboserve worker` processes with tiny
engines on one machine. Each scenario makes one fault happen to the fleet and records a row — fault, jobs,
completed once, lost, duplicated, seconds to recover — printed as one table at the end of the run."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

from fleet_harness import Fleet, FleetRow, TestPostgres, render_fleet_table  # noqa: E402
from server_fixtures import png, require_binary  # noqa: E402,F401  (a fixture the tests use)
from turboserve_harness import write_summary  # noqa: E402

ROWS: list[FleetRow] = []

# Short leases so a lost worker's jobs are rescued within seconds; steps slowed so a fault lands mid-batch; a store
# call deadline below the default 5 s, so the faults that wait on it show it was applied.
FLEET_ENV = {
    "TURBOSERVE_STORAGE_CALL_TIMEOUT_SECONDS": "3",
    "TURBOSERVE_ENGINES_DEVICES": "cpu",
    "TURBOSERVE_ENGINES_THREADS_PER_ENGINE": "1",
    "TURBOSERVE_WORKERS_LEASE_SECONDS": "4",
    "TURBOSERVE_WORKERS_HEARTBEAT_SECONDS": "1",
    "TURBOSERVE_WORKERS_DRAIN_GRACE_SECONDS": "20",
    "TURBOSERVE_ENGINE_TEST_DELAY_VERBS": "step",
    "TURBOSERVE_ENGINE_TEST_CALL_DELAY_MS": "150",
}
WORKERS = ("worker-a", "worker-b")


def running_fleet(tmp_path_factory, env: dict):
    """A throwaway PostgreSQL with 2 `api` replicas and the `WORKERS` on it, stopped (with the database) after use."""
    require_binary()
    postgres = TestPostgres()
    fleet = Fleet(tmp_path_factory.mktemp("fleet"), tmp_path_factory.mktemp("models"), postgres, env)
    try:
        fleet.migrate()
        for worker in WORKERS:  # one at a time: the first builds the tiny models the other finds
            fleet.add_worker(worker)
        fleet.add_api()
        fleet.add_api()
        yield fleet
    finally:
        fleet.stop()
        postgres.stop()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    yield from running_fleet(tmp_path_factory, FLEET_ENV)


@pytest.fixture()
def record_row():
    """Adds a row to the table and checks the promise of every row: nothing lost, nothing duplicated."""

    def record(row: FleetRow):
        ROWS.append(row)
        assert row.lost == 0, f"{row.fault}: {row.lost} lost\n{row.unexplained}"
        assert row.duplicated == 0, f"{row.fault}: {row.duplicated} duplicated\n{row.unexplained}"
        assert row.completed_once == row.jobs, f"{row.fault}: {row.completed_once} of {row.jobs} completed once\n{row.unexplained}"

    return record


def pytest_terminal_summary(terminalreporter):
    if not ROWS:
        return
    write_summary(terminalreporter, "fleet summary", render_fleet_table(ROWS), "TURBOSERVE_FLEET_TABLE")
