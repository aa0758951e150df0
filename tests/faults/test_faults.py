"""Every fault made to happen, nothing lost: engine SIGKILL (mid-step with a batch at different steps, during
decode, during a load, twice in a row, a job that keeps killing it), an engine hang (SIGSTOP), out-of-memory,
ffmpeg missing or failing, a full disk, a locked database, SIGTERM and SIGKILL of the server, and the races
(cancel against completion, DELETE while muxing, one Idempotency-Key from 20 clients at once).

Each test polls observable state with a deadline; the only waits on the clock are the faults' own durations."""

import os
import signal
import sqlite3
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from turboserve_harness import FaultRow, wait_for

SLOW_STEPS = {"TURBOSERVE_ENGINE_TEST_DELAY_VERBS": "step", "TURBOSERVE_ENGINE_TEST_CALL_DELAY_MS": "400"}


def create_all(server, count, prefix="job", **fields):
    return [server.create(prompt=f"{prefix} {i}", seed=i, **fields)["id"] for i in range(count)]


def in_progress(server, ids):
    return [v for v in server.listed(ids).values() if v["status"] == "in_progress"]


def test_engine_sigkill_mid_step_with_a_batch_at_different_steps(make_server, record_row):
    """The issue's opening scenario: 12 jobs (8 more for each round that misses the window), the engine killed
    while several are in progress at different steps."""
    server = make_server(SLOW_STEPS)
    ids = create_all(server, 4)
    wait_for(lambda: any(v["step"] >= 1 for v in in_progress(server, ids)), 60, "a job past its first step")

    def mixed_batch():
        steps = {v["step"] for v in in_progress(server, ids) if v["stage"] in ("admitted", "denoising")}
        return len(steps) >= 2

    # The window is a few steps long; on a loaded CPU one round of creates can miss it, so another round joins.
    for round in range(3):
        ids += create_all(server, 8, prefix=f"late {round}")
        try:
            wait_for(mixed_batch, 30, "jobs at different steps sharing the engine")
            break
        except TimeoutError:
            if round == 2:
                raise
    server.signal_engine(signal.SIGKILL)
    videos = server.wait_all_ended(ids)
    audit = server.audit(ids)
    record_row(FaultRow.of("engine SIGKILL mid-step (batch at different steps)", audit))
    assert {v["status"] for v in videos.values()} == {"completed"}, {i: v.get("error") for i, v in videos.items()}
    assert "turboserve_engine_restarts_total" in server.metrics()


def test_engine_sigkill_during_decode(make_server, record_row):
    server = make_server({"TURBOSERVE_ENGINE_TEST_DELAY_VERBS": "decode", "TURBOSERVE_ENGINE_TEST_CALL_DELAY_MS": "1500"})
    ids = create_all(server, 6)
    wait_for(lambda: server.running_stage() == "decode", 60, "a decode on the engine")
    server.signal_engine(signal.SIGKILL)
    videos = server.wait_all_ended(ids)
    record_row(FaultRow.of("engine SIGKILL during decode", server.audit(ids)))
    assert {v["status"] for v in videos.values()} == {"completed"}


def test_engine_sigkill_during_a_model_load(make_server, record_row, png):
    server = make_server({"TURBOSERVE_ENGINE_TEST_DELAY_VERBS": "load", "TURBOSERVE_ENGINE_TEST_CALL_DELAY_MS": "2000"})
    with open(png, "rb") as image:
        i2v = requests.post(server.url + "/v1/videos", data={"prompt": "waves", "model": "tiny-i2v", "steps": "2"},
                            files={"input_reference": ("frame.png", image, "image/png")}, timeout=30).json()["id"]
    ids = [i2v] + create_all(server, 3)
    wait_for(lambda: server.running_stage() == "load", 60, "a model load on the engine")
    server.signal_engine(signal.SIGKILL)
    videos = server.wait_all_ended(ids)
    record_row(FaultRow.of("engine SIGKILL during a model load", server.audit(ids)))
    assert {v["status"] for v in videos.values()} == {"completed"}


def test_engine_sigkill_twice_in_a_row(make_server, record_row):
    server = make_server(SLOW_STEPS)
    ids = create_all(server, 8)
    for round_ in range(2):
        first = server.engine_pids()
        wait_for(lambda: server.running_stage() == "step" and server.engine_pids() == first, 90, f"a step (round {round_ + 1})")
        server.signal_engine(signal.SIGKILL)
        wait_for(lambda: server.engine_pids() and server.engine_pids() != first, 90, "the engine to be restarted")
    videos = server.wait_all_ended(ids)
    record_row(FaultRow.of("engine SIGKILL twice in a row", server.audit(ids)))
    assert {v["status"] for v in videos.values()} == {"completed"}


def test_a_job_that_keeps_killing_the_engine_fails_and_the_others_complete(make_server, record_row):
    server = make_server({"TURBOSERVE_ENGINE_TEST_CRASH_ON_PROMPT": "poison", "TURBOSERVE_LIMITS_MAX_ATTEMPTS": "3"})
    ids = create_all(server, 5, prefix="healthy")
    poison = server.create(prompt="poison pill", seed=99)["id"]
    ids.append(poison)
    videos = server.wait_all_ended(ids)
    audit = server.audit(ids)
    record_row(FaultRow.of("a job that keeps killing the engine", audit))
    assert videos[poison]["status"] == "failed"
    assert videos[poison]["error"]["code"] == "engine_crashed"
    assert "gave up after 3 attempts" in videos[poison]["error"]["message"]
    assert all(videos[i]["status"] == "completed" for i in ids if i != poison)


def test_engine_hang_is_detected_by_the_call_deadline(make_server, record_row):
    # 10 s: 25 times a slowed step, so a loaded CI machine does not turn slow calls into hangs; still well inside
    # the 60 s the test waits for the kill.
    server = make_server({**SLOW_STEPS, "TURBOSERVE_ENGINES_CALL_TIMEOUT_SECONDS": "10"})
    ids = create_all(server, 6)
    wait_for(lambda: server.running_stage() == "step", 60, "a step on the engine")
    stopped = server.signal_engine(signal.SIGSTOP)
    wait_for(lambda: stopped not in server.engine_pids(), 60, "the hung engine to be killed")
    videos = server.wait_all_ended(ids)
    record_row(FaultRow.of("engine hang (SIGSTOP)", server.audit(ids)))
    assert {v["status"] for v in videos.values()} == {"completed"}
    assert 'turboserve_engine_restarts_total{worker=' in server.metrics()


def test_out_of_memory_splits_the_batch_and_a_job_too_large_fails_clearly(make_server, record_row):
    server = make_server({"TURBOSERVE_ENGINE_TEST_MAX_BATCH": "1", "TURBOSERVE_ENGINE_TEST_MAX_FRAMES": "17"})
    ids = create_all(server, 6, num_frames=17)
    too_large = server.create(prompt="too long", num_frames=33, seed=7)["id"]
    videos = server.wait_all_ended(ids + [too_large])
    audit = server.audit(ids + [too_large])
    record_row(FaultRow.of("engine out of memory (batch > 1; one job > 17 frames)", audit))
    assert all(videos[i]["status"] == "completed" for i in ids)
    error = videos[too_large]["error"]
    assert videos[too_large]["status"] == "failed" and error["code"] == "engine_out_of_memory"
    assert "lower num_frames" in error["message"]
    oom_lines = [line for line in server.log_text().splitlines() if "OOM" in line]
    assert oom_lines and any("shape" in line and "batch" in line for line in oom_lines), oom_lines[:3]
    assert "turboserve_engine_oom_total{" in server.metrics()


def fake_bin(tmp_path, ffmpeg_script: str | None) -> str:
    """A PATH directory with the tools the server may call, and ffmpeg replaced (None: absent)."""
    directory = tmp_path / "bin"
    directory.mkdir(exist_ok=True)
    for tool in ("pgrep", "sh", "env", "nproc"):
        real = subprocess.run(["which", tool], capture_output=True, text=True).stdout.strip()
        if real and not (directory / tool).exists():
            (directory / tool).symlink_to(real)
    if ffmpeg_script is not None:
        script = directory / "ffmpeg"
        script.write_text(ffmpeg_script)
        script.chmod(0o755)
    return str(directory)


@pytest.mark.parametrize("variant", ["missing", "exits non-zero"])
def test_ffmpeg_missing_or_failing_fails_the_job_clearly_and_the_server_keeps_serving(make_server, record_row, tmp_path, variant):
    script = None if variant == "missing" else "#!/bin/sh\necho 'fake ffmpeg: refusing to encode' >&2\nexit 3\n"
    server = make_server({"PATH": fake_bin(tmp_path, script)})
    ids = create_all(server, 3)
    videos = server.wait_all_ended(ids)
    record_row(FaultRow.of(f"ffmpeg {variant}", server.audit(ids)))
    expected = "encoder_unavailable" if variant == "missing" else "encoding_failed"
    assert {v["status"] for v in videos.values()} == {"failed"}
    assert {v["error"]["code"] for v in videos.values()} == {expected}
    for video in videos.values():
        assert "/" not in video["error"]["message"].replace("apt-get install", ""), video["error"]["message"]
        assert requests.get(f"{server.url}/v1/videos/{video['id']}/content", timeout=10).status_code != 200
    assert requests.get(server.url + "/healthz", timeout=5).status_code == 200
    assert server.running


def mount_tmpfs(path: Path, megabytes: int):
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot mount a tmpfs for the disk-full test: {result.stderr}")
        pytest.skip(f"cannot mount a tmpfs here (needs root): {result.stderr.strip()}")


def test_a_full_disk_refuses_new_jobs_serves_no_truncated_video_and_recovers(make_server, record_row, tmp_path):
    data = tmp_path / "small-disk"
    mount_tmpfs(data, 96)
    try:
        server = make_server({"TURBOSERVE_STORAGE_MIN_FREE_DISK_MB": "24", "TURBOSERVE_STORAGE_RETENTION_HOURS": "0"}, data_dir=data)
        before = create_all(server, 2, prefix="before")
        server.wait_all_ended(before)
        in_flight = create_all(server, 3, prefix="in flight")
        filler = data / "filler"
        free = os.statvfs(data).f_bavail * os.statvfs(data).f_frsize
        with open(filler, "wb") as handle:
            handle.truncate(0)
            handle.write(b"\0" * max(0, free - (4 << 20)))
        refused = requests.post(server.url + "/v1/videos", json={"prompt": "no room", "model": "tiny-t2v"}, timeout=30)
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "disk_full", refused.text
        videos = server.wait_all_ended(in_flight)
        filler.unlink()
        after = create_all(server, 2, prefix="after")
        videos.update(server.wait_all_ended(after))
        ids = before + in_flight + after
        audit = server.audit(ids)
        record_row(FaultRow.of("data directory's disk full", audit, note="1 create refused 503 disk_full"))
        for video_id, video in videos.items():
            if video["status"] == "completed":
                content = requests.get(f"{server.url}/v1/videos/{video_id}/content", timeout=30)
                assert content.status_code == 200
                out = tmp_path / f"{video_id}.mp4"
                out.write_bytes(content.content)
                frames = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                                         "stream=nb_read_frames", "-of", "csv=p=0", str(out)], capture_output=True, text=True)
                assert frames.returncode == 0 and int(frames.stdout.strip()) == 33, (video_id, frames)
            else:
                assert video["error"]["code"] in ("disk_full", "encoding_failed"), video["error"]
        assert all(videos[i]["status"] == "completed" for i in after), "serving resumed once space was freed"
        server.stop()
    finally:
        subprocess.run(["umount", "-l", str(data)], check=False)


def test_a_locked_database_loses_nothing_and_says_so(make_server, record_row):
    # heartbeats (and the lease rescuer) every 2 s: a store call is sure to start early in the lock and outlast the
    # store's 10 s busy timeout
    server = make_server({**SLOW_STEPS, "TURBOSERVE_WORKERS_HEARTBEAT_SECONDS": "2"})
    ids = create_all(server, 6)
    wait_for(lambda: in_progress(server, ids), 60, "jobs in progress")
    locker = sqlite3.connect(server.data_dir / "turboserve.sqlite", timeout=30, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    held_for = 25.0  # the fault's duration: any store call made in its first 15 s outlasts the 10 s busy timeout
    answers = []

    def create_during_lock():
        try:
            answers.append(requests.post(server.url + "/v1/videos", json={"prompt": "while locked", "model": "tiny-t2v"}, timeout=60).status_code)
        except requests.RequestException as error:
            answers.append(repr(error))

    thread = threading.Thread(target=create_during_lock)
    thread.start()
    time.sleep(held_for)
    locker.execute("COMMIT")
    locker.close()
    thread.join(timeout=90)
    assert server.running
    videos = server.wait_all_ended(ids)
    record_row(FaultRow.of("SQLite file locked for 25 s", server.audit(ids), note=f"create during the lock answered {answers}"))
    assert {v["status"] for v in videos.values()} == {"completed"}
    assert all(a in (200, 503) for a in answers), answers
    # The lock outlasts the store's 10 s busy timeout, so the worker's store calls fail for a while: the log says
    # so in plain words (an operator greps for it), and a write that failed is retried, never taken as a refusal.
    lines = server.log_text().splitlines()
    outage = [line for line in lines if "job store is unavailable" in line]
    assert outage, "no log line said the job store was unavailable during a 25 s lock"
    print(f"\n[locked] first outage log line: {outage[0]}")
    for line in lines:
        if "store refused an event" in line:
            assert "job store is unavailable" in line, line


def test_sigterm_during_a_plan_drains_within_the_grace_and_loses_nothing(make_server, record_row):
    grace = 5
    server = make_server({**SLOW_STEPS, "TURBOSERVE_WORKERS_DRAIN_GRACE_SECONDS": str(grace)})
    ids = create_all(server, 8)
    wait_for(lambda: server.running_stage() == "step", 60, "a step on the engine")
    status, seconds = server.terminate(timeout=grace + 30)
    assert status == 0, f"SIGTERM exit status {status}:\n{server.log_text()[-2000:]}"
    assert seconds <= grace + 15, f"drain took {seconds:.1f} s (grace {grace} s)"
    assert not server.engine_pids(), "the engine was torn down"
    server.start()
    videos = server.wait_all_ended(ids)
    record_row(FaultRow.of("SIGTERM during a plan, then restart", server.audit(ids), note=f"exit 0 after {seconds:.1f} s"))
    assert {v["status"] for v in videos.values()} == {"completed"}


def test_sigkill_of_the_server_with_jobs_in_flight(make_server, record_row):
    server = make_server(SLOW_STEPS)
    ids = create_all(server, 12)
    wait_for(lambda: in_progress(server, ids), 60, "jobs in progress")
    server.kill()
    server.start()
    videos = server.wait_all_ended(ids)
    record_row(FaultRow.of("server SIGKILL, then restart", server.audit(ids)))
    assert {v["status"] for v in videos.values()} == {"completed"}


def test_race_cancel_against_completion(make_server, record_row):
    server = make_server()
    ids = create_all(server, 12, steps=1)
    # Cancel each job at a different moment: while queued, while running, while decoding or muxing (progress ≥ 90),
    # and just after it completed (which must leave it completed).
    moments = {
        0: lambda v: True,
        1: lambda v: v["status"] != "queued",
        2: lambda v: v["progress"] >= 90 or v["status"] in ("completed", "failed"),
        3: lambda v: v["status"] in ("completed", "failed"),
    }
    for index, video_id in enumerate(ids):
        moment = moments[index % 4]
        wait_for(lambda: moment(server.video(video_id)), 60, f"{video_id} at moment {index % 4}")
        requests.delete(f"{server.url}/v1/videos/{video_id}", timeout=10)
    videos = server.wait_all_ended(ids)
    audit = server.audit(ids)
    record_row(FaultRow.of("race: cancel against completion", audit))
    assert audit.failed.get("cancelled", 0) >= 3
    # A DELETE after completion deletes the video (404 since) but leaves its stored outcome: succeeded, once.
    assert all(audit.rows[i][0] == "succeeded" for i in ids[3::4]), "a cancel after completion changes no outcome"
    assert all(videos[i]["status"] == "deleted" for i in ids), "every deleted video answers 404"


def test_race_delete_while_muxing(make_server, record_row, tmp_path):
    real = subprocess.run(["which", "ffmpeg"], capture_output=True, text=True).stdout.strip()
    slow = f"#!/bin/sh\nwhile [ -e {tmp_path}/hold ]; do sleep 0.05; done\nexec {real} \"$@\"\n"
    (tmp_path / "hold").write_text("")
    directory = tmp_path / "slowbin"
    directory.mkdir()
    (directory / "ffmpeg").write_text(slow)
    (directory / "ffmpeg").chmod(0o755)
    server = make_server({"PATH": f"{directory}:{os.environ['PATH']}"})
    video_id = server.create(prompt="deleted while muxing", steps=1)["id"]
    wait_for(lambda: server.video(video_id)["stage"] == "muxing", 60, "the job to reach muxing")
    deleted = requests.delete(f"{server.url}/v1/videos/{video_id}", timeout=10)
    (tmp_path / "hold").unlink()
    others = create_all(server, 2)
    server.wait_all_ended(others + [video_id])
    audit = server.audit(others + [video_id])
    record_row(FaultRow.of("race: DELETE while muxing", audit, note=f"DELETE answered {deleted.status_code}"))
    assert audit.rows[video_id][0] == "cancelled"


def test_race_twenty_concurrent_creates_with_one_idempotency_key(make_server, record_row):
    server = make_server()

    def create(_):
        response = requests.post(server.url + "/v1/videos", json={"prompt": "once", "model": "tiny-t2v"},
                                 headers={"Idempotency-Key": "one-key"}, timeout=30)
        return response.status_code, response.json().get("id")

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(create, range(20)))
    assert {status for status, _ in answers} == {200}, answers
    ids = {video_id for _, video_id in answers}
    assert len(ids) == 1, ids
    server.wait_all_ended(ids)
    database = sqlite3.connect(server.data_dir / "turboserve.sqlite")
    assert database.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 1
    record_row(FaultRow.of("race: 20 concurrent creates, one Idempotency-Key", server.audit(ids), note="20 answers, 1 job"))
