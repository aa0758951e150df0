"""Drives a TurboServe fleet on one machine: a throwaway PostgreSQL (started by `scripts/start-test-postgres`),
`turboserve migrate`, `api` replicas and `worker` processes (each with its own data directory and engine, all
sharing one output directory), and audits the shared store afterwards (every job ended exactly once)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from turboserve_harness import BINARY, REPO, TERMINAL, Audit, Server, histories, render_rows, wait_for


class TestPostgres:
    """A PostgreSQL cluster in a temporary directory on a free port, for one test session; can be restarted hard."""

    __test__ = False  # not a pytest class

    def __init__(self):
        out = subprocess.run([str(REPO / "scripts" / "start-test-postgres")], capture_output=True, text=True, check=True).stdout
        values = {}
        for line in out.splitlines():
            if line.startswith("export "):
                name, _, value = line[len("export "):].partition("=")
                values[name] = value.strip().strip("'\"")
        self.dsn = values["TURBOSERVE_TEST_POSTGRES"]
        self.data = values["TURBOSERVE_TEST_POSTGRES_DATA"]
        self.pg_ctl = values.get("TURBOSERVE_TEST_PG_CTL", "")

    def restart_immediate(self):
        """`pg_ctl restart -m immediate`: every connection drops without a clean shutdown (crash recovery on start)."""
        # TURBOSERVE_TEST_PG_CTL is the whole command, `runuser -u postgres -- …/pg_ctl -D … -w`
        subprocess.run([*self.pg_ctl.split(), "restart", "-m", "immediate"], check=True, capture_output=True, cwd="/tmp")

    def processes(self) -> list[int]:
        """The postmaster and every process it started (backends, checkpointer, WAL writer …)."""
        postmaster = int((Path(self.data) / "pgdata" / "postmaster.pid").read_text().split()[0])
        children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True).stdout.split()
        return [postmaster, *map(int, children)]

    def pause(self) -> list[int]:
        """SIGSTOP the whole cluster: a hung database that accepts nothing and refuses nothing (a frozen VM, a
        partition that drops packets). Returns the stopped processes, for `resume`."""
        stopped = self.processes()
        for pid in stopped:
            os.kill(pid, signal.SIGSTOP)
        return stopped

    def resume(self, stopped: list[int]):
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)

    def refuse_sessions(self, database: str = "postgres") -> int:
        """The database refuses every new session at login and the sessions of `application_name` 'turboserve …' are
        ended (what a failover or a full `max_connections` looks like to a client: the address answers, the login
        fails). Applies to superusers too, unlike a connection limit. Returns how many sessions were ended."""
        # From template1, which stays open to logins while the served database refuses them.
        self.query(f"ALTER DATABASE {database} ALLOW_CONNECTIONS false", database="template1")
        ended = self.query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name LIKE 'turboserve %'",
                           database="template1")
        return int(ended[0][0])

    def accept_sessions(self, database: str = "postgres"):
        self.query(f"ALTER DATABASE {database} ALLOW_CONNECTIONS true", database="template1")

    def query(self, sql: str, schema: str = "public", database: str = "postgres") -> list[list[str]]:
        dsn = self.dsn.replace("/postgres?", f"/{database}?")
        out = subprocess.run(["psql", dsn, "-qAt", "-F", "\t", "-c", f"SET search_path TO {schema}", "-c", sql],
                             capture_output=True, text=True, check=True).stdout
        return [line.split("\t") for line in out.splitlines() if line and line != "SET"]

    def stop(self):
        subprocess.run([str(REPO / "scripts" / "start-test-postgres"), "stop", self.data], capture_output=True)


class Fleet:
    """api replicas and workers on one PostgreSQL, with fleet settings (short leases) in the environment."""

    def __init__(self, root: Path, models_dir: Path, postgres: TestPostgres, env: dict, schema: str = "public"):
        self.root = Path(root)
        self.models_dir = models_dir
        self.postgres = postgres
        self.schema = schema
        separator = "&" if "?" in postgres.dsn else "?"
        database = postgres.dsn if schema == "public" else f"{postgres.dsn}{separator}schema={schema}"
        self.env = {"TURBOSERVE_STORAGE_DATABASE": database, "TURBOSERVE_STORAGE_OUTPUT_DIR": str(self.root / "outputs"), **env}
        self.apis: list[Server] = []
        self.workers: dict[str, Server] = {}

    def migrate(self):
        subprocess.run([str(BINARY), "migrate", "--data-dir", str(self.root / "migrate")], env=dict(os.environ, **self.env),
                       check=True, capture_output=True, timeout=60)

    def add_api(self) -> Server:
        server = Server(self.root / f"api-{len(self.apis)}", self.models_dir, self.env, role="api")
        self.apis.append(server)
        return server.start(timeout=60)

    def add_worker(self, worker_id: str, env: dict | None = None, args: list[str] | None = None) -> Server:
        server = Server(self.root / worker_id, self.models_dir, {**self.env, **(env or {})}, args=["--worker-id", worker_id, *(args or [])], role="worker")
        self.workers[worker_id] = server
        return server.start(timeout=240)

    def restart(self, server: Server, timeout: float = 240) -> Server:
        server.stop()
        return server.start(timeout=timeout)

    def stop(self):
        for server in [*self.apis, *self.workers.values()]:
            server.stop()

    # -- the API, spread over the replicas

    def api(self, index: int) -> Server:
        return self.apis[index % len(self.apis)]

    def live_api(self) -> Server:
        return next(api for api in self.apis if api.running)

    def wait_all_ended(self, ids, timeout: float = 300.0) -> dict:
        return self.live_api().wait_all_ended(ids, timeout=timeout)

    def query(self, sql: str) -> list[list[str]]:
        return self.postgres.query(sql, schema=self.schema)

    def query_one(self, sql: str) -> list[str]:
        rows = self.query(sql)
        assert len(rows) == 1, f"{sql}: {rows}"
        return rows[0]

    def holders(self, ids) -> dict[str, str]:
        """Which worker holds each unfinished job of `ids`, as the store says."""
        quoted = ",".join(f"'{i}'" for i in ids)
        return {job: worker for job, worker in self.query(f"SELECT id, coalesce(worker_id, '') FROM jobs WHERE id IN ({quoted})")}

    def audit(self, ids) -> Audit:
        rows = {job: (phase, code or None) for job, phase, code in self.query("SELECT id, phase, coalesce(error_code, '') FROM jobs")}
        terminal = {job: int(count) for job, count in self.query(
            "SELECT job_id, COUNT(*) FROM job_events WHERE to_state IN ('succeeded', 'failed', 'cancelled') GROUP BY job_id")}
        quoted = ",".join(f"'{i}'" for i in ids) or "''"
        events = self.query(f"SELECT job_id, at, from_state, to_state, coalesce(reason_code, ''), "
                            f"translate(coalesce(message, ''), E'\\t\\n', '  ') FROM job_events "
                            f"WHERE job_id IN ({quoted}) ORDER BY id")
        return Audit(ids=list(ids), rows=rows, terminal_events=terminal, histories=histories(events))


def submit_mixed(url: str, i: int, png: Path, prefix: str = "fleet") -> str:
    """Job `i` of a mixed batch: every third is I2V (multipart with an image), the rest T2V at two lengths; the
    priority classes take turns. Returns the id the api acknowledged."""
    priority = ["interactive", "standard", "batch"][i % 3]
    if i % 3 == 1:
        with open(png, "rb") as image:
            response = requests.post(url + "/v1/videos", data={"prompt": f"{prefix} i2v {i}", "model": "tiny-i2v", "steps": "2", "seed": str(i),
                                                               "priority": priority}, files={"input_reference": ("f.png", image, "image/png")}, timeout=30)
    else:
        response = requests.post(url + "/v1/videos", json={"prompt": f"{prefix} t2v {i}", "model": "tiny-t2v", "steps": 2, "seed": i,
                                                           "num_frames": [9, 17][i % 2], "priority": priority}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["id"]


@dataclass
class FleetRow:
    fault: str
    jobs: int
    completed_once: int
    lost: int
    duplicated: int
    seconds_to_recover: float | None = None
    # The events of each job that did not end exactly once (empty when all did): what a failed check prints.
    unexplained: str = ""

    @classmethod
    def of(cls, fault: str, audit: Audit, seconds_to_recover: float | None = None) -> "FleetRow":
        lost = audit.unfinished + audit.missing + sum(audit.failed.values())
        return cls(fault, len(audit.ids), audit.completed_once, lost, audit.duplicated, seconds_to_recover, audit.explain())


def render_fleet_table(rows: list[FleetRow]) -> str:
    header = ["fault", "jobs", "completed once", "lost", "duplicated", "seconds to recover"]
    return render_rows(header, [[r.fault, str(r.jobs), str(r.completed_once), str(r.lost), str(r.duplicated),
                                 "-" if r.seconds_to_recover is None else f"{r.seconds_to_recover:.1f}"] for r in rows])


def signal_with_engine(server: Server, sig: int) -> list[int]:
    """Sends `sig` to a worker and its engine at once (SIGSTOP: a paused pod); returns the processes signalled."""
    pids = [server.process.pid, *server.engine_pids()]
    for pid in pids:
        os.kill(pid, sig)
    return pids


def kill_with_engine(server: Server) -> float:
    """SIGKILL a worker and its engine at once (a lost pod); returns the monotonic time of the kill."""
    engines = server.engine_pids()
    server.process.send_signal(signal.SIGKILL)
    for pid in engines:
        os.kill(pid, signal.SIGKILL)
    server.process.wait()
    return time.monotonic()


__all__ = ["TERMINAL", "Fleet", "FleetRow", "TestPostgres", "kill_with_engine", "render_fleet_table", "signal_with_engine", "submit_mixed",
           "wait_for"]
