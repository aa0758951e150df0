"""The fault-injection suite: each test makes one fault happen to a real `turboserve serve` with the real engine
(tiny models) and records a row — fault, jobs, completed once, failed (codes), unfinished, duplicated — printed as
one table at the end of the run (and written to $TURBOSERVE_FAULT_TABLE if set)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

from server_fixtures import make_server, models_dir, png  # noqa: E402,F401  (fixtures the tests use)
from turboserve_harness import FaultRow, render_table, write_summary  # noqa: E402

ROWS: list[FaultRow] = []


@pytest.fixture()
def record_row():
    """Adds a row to the table and checks the promise of every row: nothing unfinished, nothing duplicated."""

    def record(row: FaultRow):
        ROWS.append(row)
        assert row.unfinished == 0, f"{row.fault}: {row.unfinished} unfinished\n{row.unexplained}"
        assert row.duplicated == 0, f"{row.fault}: {row.duplicated} duplicated\n{row.unexplained}"

    return record


def pytest_terminal_summary(terminalreporter):
    if not ROWS:
        return
    write_summary(terminalreporter, "fault-injection summary", render_table(ROWS), "TURBOSERVE_FAULT_TABLE")
