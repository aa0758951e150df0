"""A fleet survives losing any part: 60 mixed jobs spread over two api replicas complete exactly once; a worker
SIGKILLed mid-batch (with its engine) has its jobs re-leased within the lease time and completed by the other; an
api SIGKILLed mid-stream loses none of the jobs it acknowledged; PostgreSQL restarted hard mid-run is survived by
every role on its own; PostgreSQL refusing every login mid-run (a failover, a full max_connections) is named at
/readyz in the server's words and survived; PostgreSQL hung (SIGSTOP) mid-run makes every role say so at /readyz and
a create answer a 503 that names the video it may still store; a worker paused past its lease has its jobs taken
over, and its late writes are refused when it wakes; a worker cut off from the database by a partition (alive, its
packets held) is taken over the same way and rejoins when it heals; the api replica exporting the queue gauges,
paused, hands them to the other; a SIGTERMed worker drains within its grace. SSE on one replica follows a job the
other replica created, within a second of each step.

Every wait polls observable state with a deadline; the only waits on the clock are the faults' own durations."""

import json
import os
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import requests

from conftest import FLEET_ENV, WORKERS
from fleet_harness import FleetRow, kill_with_engine, signal_with_engine, submit_mixed, wait_for
from partition import Partition
from turboserve_harness import Server, metric

LEASE_SECONDS = float(FLEET_ENV["TURBOSERVE_WORKERS_LEASE_SECONDS"])
GRACE_SECONDS = float(FLEET_ENV["TURBOSERVE_WORKERS_DRAIN_GRACE_SECONDS"])
CALL_TIMEOUT_SECONDS = float(FLEET_ENV["TURBOSERVE_STORAGE_CALL_TIMEOUT_SECONDS"])


def not_ready_reason(server) -> str:
    """Waits (30 s at most) until `server` answers /readyz with 503, and returns the reason it gives."""
    return wait_for(lambda: not server.is_ready() and requests.get(server.url + "/readyz", timeout=5).text, 30, f"{server.role} not ready")


def submit_spread(fleet, png, count, prefix):
    """`count` mixed jobs from 8 clients, alternating between the api replicas; returns the acknowledged ids."""
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda i: submit_mixed(fleet.api(i).url, i, png, prefix), range(count)))


def test_sixty_mixed_jobs_complete_exactly_once(fleet, png, record_row):
    started = time.monotonic()
    with ConnectionPeaks(fleet) as peaks:
        ids = submit_spread(fleet, png, 60, "steady")
        videos = fleet.wait_all_ended(ids, timeout=300)
    record_row(FleetRow.of("none: 60 mixed jobs (T2V + I2V, 3 classes), 2 api + 2 workers", fleet.audit(ids)))
    assert {v["status"] for v in videos.values()} == {"completed"}
    # A measurement for the connection budget (docs/deploy.md), not a bound: storage.max_connections is the bound.
    print(f"\n60 mixed jobs in {time.monotonic() - started:.1f} s; peak PostgreSQL sessions per process: {peaks.by_process}")


class ConnectionPeaks:
    """Samples `pg_stat_activity` while in use: the most sessions each process (`application_name`) had at once."""

    def __init__(self, fleet):
        self.fleet, self.by_process, self.stop = fleet, {}, threading.Event()

    def __enter__(self):
        def sample():
            while not self.stop.wait(0.1):
                for name, count in self.fleet.query(
                        "SELECT application_name, count(*) FROM pg_stat_activity WHERE application_name LIKE 'turboserve %' GROUP BY 1"):
                    self.by_process[name] = max(self.by_process.get(name, 0), int(count))
        self.thread = threading.Thread(target=sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def test_sse_on_one_replica_follows_a_job_created_on_the_other(fleet):
    created = fleet.api(1).create(prompt="followed", steps=4, num_frames=17)
    arrivals: list[tuple[float, dict]] = []
    with requests.get(f"{fleet.api(0).url}/v1/videos/{created['id']}/events", stream=True, timeout=120) as stream:
        event = None
        for line in stream.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                event = line[len("event: "):]
            elif line.startswith("data: ") and event == "progress":
                arrivals.append((time.time(), json.loads(line[len("data: "):])))
            elif line.startswith("data: ") and event == "done":
                break
    assert arrivals[-1][1]["status"] == "completed"
    # Each step as the store recorded it (database clock, same machine) against when the SSE event arrived.
    recorded = {int(state[len("denoising("):].split("/")[0]): float(at) for state, at in fleet.query(
        f"SELECT to_state, extract(epoch FROM at) FROM job_events WHERE job_id = '{created['id']}' AND to_state LIKE 'denoising(%'")}
    seen = {v["step"]: at for at, v in arrivals if v["stage"] == "denoising"}
    assert seen, "no step reached the SSE stream"
    delays = {step: seen[step] - recorded[step] for step in seen if step in recorded}
    print(f"\nSSE delay per step (s): {', '.join(f'{s}: {d:.3f}' for s, d in sorted(delays.items()))}")
    assert delays and max(delays.values()) <= 1.0, delays


def test_sigkill_a_worker_mid_batch(fleet, png, record_row):
    victim, survivor = (fleet.workers[w] for w in WORKERS)
    ids = submit_spread(fleet, png, 16, "kill-worker")
    wait_for(lambda: WORKERS[0] in {h for j, h in fleet.holders(ids).items() if fleet.live_api().video(j)["status"] == "in_progress"},
             60, f"{WORKERS[0]} running a job")
    held = [j for j, h in fleet.holders(ids).items() if h == WORKERS[0]]
    killed_at = kill_with_engine(victim)

    def released():
        holders = fleet.holders(held)
        return all(h != WORKERS[0] for h in holders.values())

    wait_for(released, LEASE_SECONDS * 3, "the killed worker's jobs to be re-leased")
    recovered = time.monotonic() - killed_at
    fleet.wait_all_ended(ids, timeout=300)
    record_row(FleetRow.of(f"SIGKILL {WORKERS[0]} + its engine mid-batch ({len(held)} held)", fleet.audit(ids), recovered))
    assert recovered <= LEASE_SECONDS * 2 + 1, f"re-leased after {recovered:.1f} s with a {LEASE_SECONDS:.0f} s lease"
    # The killed worker stays down until every job ended, so the other worker completed its jobs.
    fleet.restart(victim)


def test_sigkill_an_api_mid_stream(fleet, png, record_row):
    victim = fleet.apis[0]
    acknowledged: list[str] = []
    stop = threading.Event()

    def client(offset):
        i = offset
        while not stop.is_set():
            try:
                acknowledged.append(submit_mixed(victim.url, i, png, "kill-api"))
            except (requests.RequestException, AssertionError):
                return  # the replica is gone: what it acknowledged is what counts
            i += 4

    threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    wait_for(lambda: len(acknowledged) >= 12, 60, "a dozen acknowledged creates")
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait()
    killed_at = time.monotonic()
    stop.set()
    for thread in threads:
        thread.join()
    fleet.wait_all_ended(acknowledged, timeout=300)
    record_row(FleetRow.of("SIGKILL an api replica mid-stream (acknowledged jobs)", fleet.audit(acknowledged), time.monotonic() - killed_at))
    victim.start(timeout=60)


def test_postgres_restarted_hard_mid_run(fleet, png, record_row):
    ids = submit_spread(fleet, png, 20, "pg-restart")
    wait_for(lambda: any(v["status"] == "in_progress" for v in fleet.live_api().videos(ids).values()), 60, "jobs in progress")
    fleet.postgres.restart_immediate()
    restarted_at = time.monotonic()
    every_role = [*fleet.apis, *fleet.workers.values()]
    wait_for(lambda: all(server.is_ready() for server in every_role), 60, "every role ready again")
    recovered = time.monotonic() - restarted_at
    fleet.wait_all_ended(ids, timeout=300)
    assert all(server.running for server in every_role), "a role exited on the database restart"
    record_row(FleetRow.of("pg_ctl restart -m immediate mid-run", fleet.audit(ids), recovered))


def test_postgres_hung_mid_run(fleet, png, record_row):
    ids = submit_spread(fleet, png, 16, "pg-hung")
    wait_for(lambda: any(v["status"] == "in_progress" for v in fleet.live_api().videos(ids).values()), 60, "jobs in progress")
    every_role = [*fleet.apis, *fleet.workers.values()]
    prompt = "sent to a hung database"
    stopped = fleet.postgres.pause()
    paused_at = time.monotonic()
    try:
        # A create the hung database took but never answered may be committed when it wakes: the 503 says
        # "nothing was stored" only when the create never reached it, and otherwise names the video to look up.
        sent_at = time.monotonic()
        answer = requests.post(fleet.api(0).url + "/v1/videos", json={"prompt": prompt, "model": "tiny-t2v", "steps": 2}, timeout=60)
        answered_in = time.monotonic() - sent_at
        assert answer.status_code == 503, answer.text
        # Within the configured call deadline (storage.call_timeout_seconds), not the default 5 s.
        assert answered_in < CALL_TIMEOUT_SECONDS + 1.5, f"the create answered after {answered_in:.1f} s"
        error = answer.json()["error"]
        assert error["code"] == "not_ready", error
        named = re.search(r"after video (\S+) was sent to it, so it may still be stored", error["message"])
        assert named or "nothing was stored" in error["message"], error["message"]
        # Every role takes itself out of its load balancer, naming the store (not the engine) as the reason.
        for server in every_role:
            reason = not_ready_reason(server)
            assert "the job store (PostgreSQL) did not answer" in reason, f"{server.role}: {reason}"
    finally:
        fleet.postgres.resume(stopped)
    wait_for(lambda: all(server.is_ready() for server in every_role), 60, "every role ready again")
    recovered = time.monotonic() - paused_at
    stored = [job for job, in fleet.query(f"SELECT id FROM jobs WHERE spec_json LIKE '%{prompt}%'")]
    if named:
        assert answer.headers.get("X-Video-Id") == named.group(1), answer.headers
        assert stored in ([], [named.group(1)]), stored
    else:
        assert stored == [], f"the 503 said nothing was stored, yet {stored} was"
    print(f"\nthe 503 after {answered_in:.1f} s: {error['message']!r}; stored afterwards: {stored}")
    fleet.wait_all_ended(ids + stored, timeout=300)  # a create the database committed on waking runs like any other
    assert all(server.running for server in every_role), "a role exited while the database hung"
    record_row(FleetRow.of("PostgreSQL hung (SIGSTOP, every process) mid-run", fleet.audit(ids + stored), recovered))


def test_postgres_refusing_new_sessions_mid_run(fleet, png, record_row):
    """What a failover or a full `max_connections` does to the fleet: every session ends and every new login is
    refused. Every role says so at /readyz in the server's own words (not "did not answer", which sends an operator
    to look for a hung server), a create answers 503, and once logins are accepted again every role is back within
    seconds and every job ends exactly once, leases that ran out meanwhile rescued."""
    ids = submit_spread(fleet, png, 16, "pg-refuse")
    wait_for(lambda: any(v["status"] == "in_progress" for v in fleet.live_api().videos(ids).values()), 60, "jobs in progress")
    every_role = [*fleet.apis, *fleet.workers.values()]
    ended = fleet.postgres.refuse_sessions()
    refused_at = time.monotonic()
    try:
        for server in every_role:
            reason = not_ready_reason(server)
            assert "the job store (PostgreSQL) refused the session" in reason and "not currently accepting connections" in reason, f"{server.role}: {reason}"
        answer = requests.post(fleet.api(0).url + "/v1/videos", json={"prompt": "refused", "model": "tiny-t2v", "steps": 2}, timeout=60)
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "not_ready", answer.text
        print(f"\n{ended} sessions ended; /readyz: {reason!r}")
        remaining = LEASE_SECONDS * 2 - (time.monotonic() - refused_at)
        time.sleep(max(0.0, remaining))  # the fault's own duration: past every lease, so recovery includes the rescue
    finally:
        fleet.postgres.accept_sessions()
    refused_for = time.monotonic() - refused_at
    accepting_at = time.monotonic()
    wait_for(lambda: all(server.is_ready() for server in every_role), 60, "every role ready again")
    recovered = time.monotonic() - accepting_at
    fleet.wait_all_ended(ids, timeout=300)
    assert all(server.running for server in every_role), "a role exited while the database refused sessions"
    assert not fleet.query("SELECT id FROM jobs WHERE spec_json LIKE '%\"refused\"%'"), "the refused create was stored"
    record_row(FleetRow.of(f"PostgreSQL refusing logins for {refused_for:.0f} s, every session ended", fleet.audit(ids), recovered))


def test_a_worker_paused_past_its_lease_is_taken_over_and_its_late_writes_are_refused(fleet, png, record_row):
    paused = fleet.workers[WORKERS[0]]
    ids = submit_spread(fleet, png, 16, "pause-worker")
    wait_for(lambda: WORKERS[0] in {h for j, h in fleet.holders(ids).items() if fleet.live_api().video(j)["status"] == "in_progress"},
             60, f"{WORKERS[0]} running a job")
    held = [j for j, h in fleet.holders(ids).items() if h == WORKERS[0]]
    stopped = signal_with_engine(paused, signal.SIGSTOP)
    paused_at = time.monotonic()
    try:
        wait_for(lambda: all(h != WORKERS[0] for h in fleet.holders(held).values()), LEASE_SECONDS * 3, "the paused worker's jobs to be re-leased")
        taken_over = time.monotonic() - paused_at
    finally:
        # Woken at once, while the other worker runs its jobs, so its late step and completion writes race them.
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
    fleet.wait_all_ended(ids, timeout=300)
    record_row(FleetRow.of(f"SIGSTOP {WORKERS[0]} + its engine past its lease, then SIGCONT ({len(held)} held)", fleet.audit(ids), taken_over))
    assert taken_over <= LEASE_SECONDS * 2 + 1, f"taken over after {taken_over:.1f} s with a {LEASE_SECONDS:.0f} s lease"
    wait_for(paused.is_ready, 60, f"{WORKERS[0]} ready again after waking")
    assert paused.running, f"{WORKERS[0]} exited after waking"
    assert learned_it_lost(paused, held), f"{WORKERS[0]} never learned it lost {held}"


def test_a_worker_cut_off_from_the_database_is_taken_over_and_rejoins(fleet, png, record_row):
    """A partition between one worker and PostgreSQL, the worker alive and stepping: its /readyz says the store does
    not answer, the other workers take its jobs once its lease runs out, and when the partition heals its late
    writes are refused (the job's new holder decides), it is ready again and claims work as before."""
    upstream = urlparse(fleet.postgres.dsn)
    partition = Partition((upstream.hostname, upstream.port))
    proxied = fleet.env["TURBOSERVE_STORAGE_DATABASE"].replace(f":{upstream.port}/", f":{partition.port}/")
    cut_off = fleet.add_worker("worker-cut", env={"TURBOSERVE_STORAGE_DATABASE": proxied})
    try:
        # Its preload first (a worker claims between plans; the load takes seconds on a busy 2-core machine).
        wait_for(lambda: resident_models(fleet, "worker-cut"), 120, "worker-cut to preload its model")
        ids = submit_spread(fleet, png, 32, "partition")  # more than the other two hold at once (8 each)
        wait_for(lambda: "worker-cut" in {h for j, h in fleet.holders(ids).items() if fleet.live_api().video(j)["status"] == "in_progress"},
                 60, "worker-cut running a job")
        partition.cut()
        cut_at = time.monotonic()
        try:
            held = [j for j, h in fleet.holders(ids).items() if h == "worker-cut"]
            reason = not_ready_reason(cut_off)
            assert "the job store (PostgreSQL) did not answer" in reason, reason
            wait_for(lambda: all(h != "worker-cut" for h in fleet.holders(held).values()), LEASE_SECONDS * 3, "worker-cut's jobs to be re-leased")
            taken_over = time.monotonic() - cut_at
            assert cut_off.running, "worker-cut exited while cut off"
        finally:
            partition.heal()
        fleet.wait_all_ended(ids, timeout=300)
        record_row(FleetRow.of(f"worker-cut cut off from PostgreSQL (packets held) past its lease, then healed ({len(held)} held)", fleet.audit(ids), taken_over))
        assert taken_over <= LEASE_SECONDS * 2 + 1, f"taken over after {taken_over:.1f} s with a {LEASE_SECONDS:.0f} s lease"
        wait_for(cut_off.is_ready, 60, "worker-cut ready again after the partition healed")
        assert learned_it_lost(cut_off, held), f"worker-cut never learned it lost {held}"
        plans_before = metric(cut_off.metrics(), "turboserve_engine_plans_total")
        more = submit_spread(fleet, png, 12, "after-partition")
        wait_for(lambda: metric(cut_off.metrics(), "turboserve_engine_plans_total") > plans_before, 120, "worker-cut to run work again")
        fleet.wait_all_ended(more, timeout=300)
    finally:
        cut_off.stop()
        fleet.workers.pop("worker-cut", None)
        partition.close()


def learned_it_lost(worker, held) -> list[str]:
    """The log lines in which a worker that was cut off past its lease learned that it lost jobs of `held`. It had
    work to record: the store refused it (`job_not_held`, or any other refusal: `store refused an event`); or its
    heartbeat told it first (`jobs no longer held`). Its claims exclude the jobs it still runs, so it never holds a
    rescued job again before hearing it lost it. Exactly once is the audit's business; this is that the worker heard."""
    signs = ("job_not_held", "store refused an event", "jobs no longer held by this worker")
    return [line for line in worker.log_text().splitlines() if any(s in line for s in signs) and any(j in line for j in held)]


def resident_models(fleet, worker_id: str) -> list[str]:
    """The models a worker's engine holds, from its last heartbeat as the operations view shows it."""
    return next((w.get("resident_models") or [] for w in fleet.live_api().operations().get("workers", []) if w.get("worker") == worker_id), [])


def exports_store_gauges(api) -> bool:
    """Whether this replica's /metrics carries the store-wide queue gauges (the duty one replica holds at a time)."""
    return re.search(r"^turboserve_queue_depth_jobs\{", api.metrics(), re.MULTILINE) is not None


def test_a_second_process_under_a_worker_id_is_found_out(fleet, png, record_row):
    """A misconfiguration the store's fencing cannot see: a second worker process started as worker-a. Each signs its
    heartbeats with its own incarnation; each finds the other's beats between its own, answers /readyz 503 saying
    so, exports turboserve_worker_id_conflict 1 and claims nothing new. Once the second one stops, worker-a is ready
    again within two leases and runs new work; every job ends exactly once."""
    original = fleet.workers[WORKERS[0]]
    conflict = f"another process is running as worker id '{WORKERS[0]}'"

    def reports_conflict(response) -> bool:
        return response.status_code == 503 and conflict in response.text

    twin = Server(fleet.root / f"{WORKERS[0]}-twin", fleet.models_dir, fleet.env, args=["--worker-id", WORKERS[0]], role="worker")
    twin.start(timeout=240, up=lambda response: response.status_code == 200 or reports_conflict(response))
    try:
        for server in (twin, original):
            wait_for(lambda: reports_conflict(requests.get(server.url + "/readyz", timeout=5)), 30, f"{server.data_dir.name} to report the conflict")
            assert metric(server.metrics(), "turboserve_worker_id_conflict") == 1
        assert "worker id in use by another process" in original.log_text()
    finally:
        twin.stop()
    stopped_at = time.monotonic()
    wait_for(original.is_ready, LEASE_SECONDS * 2 + 30, f"{WORKERS[0]} ready again once the twin stopped")
    recovered = time.monotonic() - stopped_at
    assert metric(original.metrics(), "turboserve_worker_id_conflict") == 0
    ids = submit_spread(fleet, png, 8, "twin")
    fleet.wait_all_ended(ids, timeout=300)
    record_row(FleetRow.of(f"a second process started as {WORKERS[0]}, then stopped (conflict found by both)", fleet.audit(ids), recovered))
    # Two leases after the twin's last beat, which came a little before its stop returned: not at once.
    assert recovered >= LEASE_SECONDS, f"ready again {recovered:.1f} s after the twin stopped, long before two leases without its beats"


def test_a_paused_replica_exporting_the_queue_gauges_hands_them_over(fleet, png, record_row):
    """The autoscaler reads the queue gauges, which one api replica exports at a time. SIGSTOP that one: the other
    exports them once the holder's session idles out (it pings every store call deadline; the server ends it after
    three), and when the paused one wakes it gives the duty up. Before, the paused replica kept it for ever."""
    exporting = [api for api in fleet.apis if exports_store_gauges(api)]
    assert len(exporting) == 1, f"{len(exporting)} replicas export the store-wide gauges"
    holder = exporting[0]
    other = next(api for api in fleet.apis if api is not holder)
    holder.process.send_signal(signal.SIGSTOP)
    paused_at = time.monotonic()
    try:
        ids = [submit_mixed(other.url, i, png, "pause-api") for i in range(8)]
        wait_for(lambda: exports_store_gauges(other), 60, "the other replica to export the queue gauges")
        handed_over = time.monotonic() - paused_at
    finally:
        holder.process.send_signal(signal.SIGCONT)
    wait_for(lambda: not exports_store_gauges(holder), 30, "the woken replica to stop exporting the queue gauges")
    assert exports_store_gauges(other), "the duty went back to the replica that had been paused"
    fleet.wait_all_ended(ids, timeout=300)
    record_row(FleetRow.of("SIGSTOP the api replica exporting the queue gauges", fleet.audit(ids), handed_over))
    assert handed_over <= 3 * CALL_TIMEOUT_SECONDS + 10, f"the queue gauges were missing for {handed_over:.1f} s"


def test_sigterm_a_worker_drains_within_its_grace(fleet, png, record_row):
    victim = fleet.workers[WORKERS[1]]
    ids = submit_spread(fleet, png, 16, "drain")
    wait_for(lambda: any(v["status"] == "in_progress" for v in fleet.live_api().videos(ids).values()), 60, "jobs in progress")
    status, seconds = victim.terminate(timeout=GRACE_SECONDS + 15)
    fleet.wait_all_ended(ids, timeout=300)
    record_row(FleetRow.of(f"SIGTERM {WORKERS[1]} (drain, grace {GRACE_SECONDS:.0f} s)", fleet.audit(ids), seconds))
    assert status == 0, f"the worker exited with {status}"
    assert seconds <= GRACE_SECONDS + 5, f"drained in {seconds:.1f} s with a {GRACE_SECONDS:.0f} s grace"
