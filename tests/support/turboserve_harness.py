"""Drives real `turboserve` processes for the end-to-end and fault-injection suites: start, signal, kill and
restart a server on a data directory, find its engine process, create jobs, poll observable state with a
deadline (never a fixed sleep), and audit the SQLite store afterwards (every job ended exactly once)."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("TURBOSERVE_BIN", REPO / ".build" / "debug" / "turboserve"))
TERMINAL = ("completed", "failed", "deleted")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metric(text: str, name: str) -> float:
    """The sum of every series of metric `name` (any labels) in a Prometheus exposition `text`; 0 when absent."""
    return sum(float(m.group(1)) for m in re.finditer(rf"^{re.escape(name)}(?:{{[^}}]*}})? ([0-9.e+-]+)$", text, re.M))


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    """Polls `predicate` until it returns something truthy; raises TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


class Server:
    """One `turboserve` process of a role (`serve` by default; `api` or `worker` in a fleet) on its own data
    directory; can be signalled, killed and started again on it. A worker's port serves its probes and metrics."""

    def __init__(self, data_dir: Path, models_dir: Path, env: dict | None = None, args: list[str] | None = None, role: str = "serve"):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.models_dir = Path(models_dir)
        self.env = {k: str(v) for k, v in (env or {}).items()}
        self.args = args or []
        self.role = role
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.logs: list[Path] = []

    def start(self, timeout: float = 180.0, up=lambda response: response.status_code == 200) -> "Server":
        """Starts the process and waits until its `/readyz` answer satisfies `up` (default: ready)."""
        env = dict(os.environ, TURBOSERVE_MODELS_DIR=str(self.models_dir), **self.env)
        log_path = self.data_dir / f"{self.role}-{len(self.logs)}.log"
        self.logs.append(log_path)
        self.log = open(log_path, "w")
        self.process = subprocess.Popen([str(BINARY), self.role, "--port", str(self.port), "--data-dir", str(self.data_dir), *self.args],
                                        stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=REPO)

        def ready():
            assert self.process.poll() is None, f"server exited with {self.process.returncode}:\n{self.log_text()[-4000:]}"
            try:
                return up(requests.get(self.url + "/readyz", timeout=1))
            except requests.ConnectionError:
                return False

        wait_for(ready, timeout, f"the {self.role} process to become ready", interval=0.2)
        return self

    def is_ready(self) -> bool:
        try:
            return requests.get(self.url + "/readyz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def log_text(self) -> str:
        return "".join(path.read_text(errors="replace") for path in self.logs if path.exists())

    # -- processes

    def engine_pids(self) -> list[int]:
        found = subprocess.run(["pgrep", "-f", "--", f"--work-dir {self.data_dir}/work"], capture_output=True, text=True).stdout.split()
        return [int(pid) for pid in found]

    def signal_engine(self, sig: int) -> int:
        pids = self.engine_pids()
        assert pids, "no engine process to signal"
        os.kill(pids[0], sig)
        return pids[0]

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        for pid in self.engine_pids():
            os.kill(pid, signal.SIGKILL)

    def terminate(self, timeout: float) -> tuple[int, float]:
        """SIGTERM; returns (exit status, seconds to exit)."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        status = self.process.wait(timeout=timeout)
        return status, time.monotonic() - started

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()
        for pid in self.engine_pids():
            os.kill(pid, signal.SIGKILL)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # -- API

    def create(self, body: dict | None = None, **fields) -> dict:
        payload = {"prompt": "a fox in the snow", "model": "tiny-t2v", "steps": 4, "num_frames": 33, **(body or {}), **fields}
        response = requests.post(self.url + "/v1/videos", json=payload, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def video(self, video_id: str) -> dict:
        """The video object; a deleted video (DELETE answers 404 afterwards) is `{"id", "status": "deleted"}`."""
        response = requests.get(f"{self.url}/v1/videos/{video_id}", timeout=10)
        if response.status_code == 404:
            return {"id": video_id, "status": "deleted", "stage": "deleted", "progress": 0}
        return response.json()

    def videos(self, ids) -> dict:
        return {i: self.video(i) for i in ids}

    def listed(self, ids) -> dict:
        """The video objects of `ids` among the newest 100, in one `GET /v1/videos`: a poll that must catch a short
        moment (jobs at different steps) asks once instead of once per job, so a slow machine does not miss it."""
        wanted = set(ids)
        response = requests.get(self.url + "/v1/videos", params={"limit": 100}, timeout=10)
        assert response.status_code == 200, response.text
        return {v["id"]: v for v in response.json()["data"] if v["id"] in wanted}

    def operations(self) -> dict:
        return requests.get(self.url + "/v1/operations", timeout=10).json()

    def running_stage(self) -> str | None:
        engines = self.operations().get("workers", [])
        return next((e.get("running_stage") for e in engines if e.get("running_stage")), None)

    def metrics(self) -> str:
        return requests.get(self.url + "/metrics", timeout=10).text

    def wait_all_ended(self, ids, timeout: float = 300.0) -> dict:
        state = {}

        def ended():
            state.update(self.videos(ids))
            return all(v["status"] in TERMINAL for v in state.values())

        try:
            wait_for(ended, timeout, "every job to end", interval=0.2)
        except TimeoutError as error:
            unfinished = {i: v["status"] for i, v in state.items() if v["status"] not in TERMINAL}
            raise TimeoutError(f"{error}; unfinished: {unfinished}") from None
        return state

    # -- the store, read after the fact

    def audit(self, ids) -> "Audit":
        wanted = list(ids)
        database = sqlite3.connect(f"file:{self.data_dir / 'turboserve.sqlite'}?mode=ro", uri=True, timeout=30)
        try:
            rows = {job: (phase, code) for job, phase, code in database.execute("SELECT id, phase, error_code FROM jobs")}
            terminal = {}
            for job, count in database.execute(
                    "SELECT job_id, COUNT(*) FROM job_events WHERE to_state IN ('succeeded', 'failed', 'cancelled') GROUP BY job_id"):
                terminal[job] = count
            events = list(database.execute("SELECT job_id, at, from_state, to_state, coalesce(reason_code, ''), coalesce(message, '') FROM job_events "
                                           f"WHERE job_id IN ({','.join('?' * len(wanted)) or 'NULL'}) ORDER BY id", wanted))
        finally:
            database.close()
        return Audit(ids=wanted, rows=rows, terminal_events=terminal, histories=histories(events))


@dataclass
class Audit:
    """What the store says about a scenario's jobs: each should have ended exactly once."""

    ids: list
    rows: dict
    terminal_events: dict
    # Each job's events in order, one "from -> to [code] message" line each (what `explain` shows of a job that did
    # not end exactly once).
    histories: dict = field(default_factory=dict)

    @property
    def completed_once(self) -> int:
        return sum(1 for i in self.ids if self.completed_exactly_once(i))

    def completed_exactly_once(self, job: str) -> bool:
        return self.rows.get(job, (None,))[0] == "succeeded" and self.terminal_events.get(job) == 1

    def explain(self) -> str:
        """The history of every job of the scenario that did not end exactly once: what a failed row needs to say."""
        return "\n".join(f"{job} ({self.rows.get(job, ('missing', None))[0]}):\n  " + "\n  ".join(self.histories.get(job, ["no events"]))
                         for job in self.ids if not self.completed_exactly_once(job))

    @property
    def failed(self) -> dict:
        codes: dict[str, int] = {}
        for i in self.ids:
            phase, code = self.rows.get(i, (None, None))
            if phase in ("failed", "cancelled"):
                key = code or phase
                codes[key] = codes.get(key, 0) + 1
        return codes

    @property
    def unfinished(self) -> int:
        return sum(1 for i in self.ids if self.rows.get(i, (None,))[0] not in ("succeeded", "failed", "cancelled"))

    @property
    def duplicated(self) -> int:
        return sum(1 for i in self.ids if self.terminal_events.get(i, 0) > 1)

    @property
    def missing(self) -> int:
        return sum(1 for i in self.ids if i not in self.rows)


def histories(events) -> dict[str, list[str]]:
    """Each job's events, `(job, at, from, to, code, message)` in order, as one line each."""
    lines: dict[str, list[str]] = {}
    for job, at, source, target, code, message in events:
        lines.setdefault(job, []).append(f"{at} {source} -> {target}" + (f" [{code}] {message}" if code or message else ""))
    return lines


@dataclass
class FaultRow:
    fault: str
    jobs: int
    completed_once: int
    failed: dict = field(default_factory=dict)
    unfinished: int = 0
    duplicated: int = 0
    note: str = ""
    # The events of each job that did not end exactly once: what a failed check prints.
    unexplained: str = ""

    @classmethod
    def of(cls, fault: str, audit: Audit, note: str = "") -> "FaultRow":
        return cls(fault, len(audit.ids), audit.completed_once, audit.failed, audit.unfinished + audit.missing, audit.duplicated, note,
                   audit.explain())


def write_summary(terminalreporter, title: str, table: str, env_var: str) -> None:
    """Prints a suite's summary `table` under `title` at the end of the pytest run and, when the environment
    variable `env_var` names a file, writes the table there too (CI keeps it)."""
    terminalreporter.write_sep("=", title)
    terminalreporter.write_line(table)
    if os.environ.get(env_var):
        Path(os.environ[env_var]).write_text(table + "\n")


def render_table(rows: list[FaultRow]) -> str:
    header = ["fault", "jobs", "completed once", "failed (codes)", "unfinished", "duplicated", "note"]
    return render_rows(header, [[r.fault, str(r.jobs), str(r.completed_once),
                                 ", ".join(f"{n} {c}" for c, n in sorted(r.failed.items())) or "0", str(r.unfinished), str(r.duplicated), r.note]
                                for r in rows])


def render_rows(header: list[str], lines: list[list[str]]) -> str:
    """A plain-text table: the header, a rule, one line per row, columns padded to their widest cell."""
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(header)]
    fmt = " | ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*header), "-+-".join("-" * w for w in widths)]
    out += [fmt.format(*line) for line in lines]
    return "\n".join(out)
