"""TEST-ONLY fault settings and the one out-of-memory mapping they share with a real device OOM."""

import time

import pytest
import torch

from conftest import EngineProcess, job_spec
from turboserve_engine.engine import Engine
from turboserve_engine.errors import EngineError
from turboserve_engine.faults import FaultSettingsError, TestFaults
from turboserve_engine.server import VERBS


def faulty(models_dir, tmp_path, **settings) -> Engine:
    return Engine(models_dir, tmp_path / "work", device="cpu", threads=1, faults=TestFaults(**settings))


def failure(call, args) -> EngineError:
    with pytest.raises(EngineError) as caught:
        call(args)
    return caught.value


def admit_two(engine, **overrides):
    engine.load({"model": "tiny-t2v", "expert": "main"})
    engine.admit({"jobs": [job_spec("a", steps=2, **overrides)]})
    engine.admit({"jobs": [job_spec("b", steps=2, **overrides)]})


def test_settings_are_parsed_strictly():
    assert TestFaults.from_environment({}, VERBS).describe() == {}
    faults = TestFaults.from_environment({"TURBOSERVE_ENGINE_TEST_MAX_BATCH": "2", "TURBOSERVE_ENGINE_TEST_CALL_DELAY_MS": "50",
                                          "TURBOSERVE_ENGINE_TEST_DELAY_VERBS": "step, decode"}, VERBS)
    assert faults.describe() == {"max_batch": 2, "call_delay_ms": 50, "delay_verbs": ["step", "decode"]}
    for wrong in ({"TURBOSERVE_ENGINE_TEST_MAX_BATCH": "0"}, {"TURBOSERVE_ENGINE_TEST_MAX_FRAMES": "many"},
                  {"TURBOSERVE_ENGINE_TEST_DELAY_VERBS": "step,fly"}, {"TURBOSERVE_ENGINE_TEST_MAXBATCH": "1"}):
        with pytest.raises(FaultSettingsError):
            TestFaults.from_environment(wrong, VERBS)


def test_a_batch_over_max_batch_runs_out_of_memory_unnamed_and_changes_nothing(models_dir, tmp_path):
    engine = faulty(models_dir, tmp_path, max_batch=1)
    admit_two(engine)
    step = {"model": "tiny-t2v", "expert": "main", "jobs": [{"job_id": "a", "index": 0}, {"job_id": "b", "index": 0}]}
    error = failure(engine.step, step)
    reply = error.to_reply()
    assert reply["code"] == "out_of_memory" and reply["retryable"] is True and "jobs" not in reply
    assert "step of tiny-t2v/main at 64x64, 9 frames, batch of 2" in error.message
    assert "lower the batch size" in error.message
    assert [engine.jobs[j].index for j in "ab"] == [0, 0]  # state unchanged
    for job in "ab":  # each alone fits
        engine.step({"model": "tiny-t2v", "expert": "main", "jobs": [{"job_id": job, "index": 0}]})
    pair = [job_spec("c"), job_spec("d")]
    assert "jobs" not in failure(engine.admit, {"jobs": pair}).to_reply() and "c" not in engine.jobs
    for job in "ab":
        engine.step({"model": "tiny-t2v", "expert": "main", "jobs": [{"job_id": job, "index": 1}]})
    error = failure(engine.decode, {"jobs": ["a", "b"]})
    assert error.code == "out_of_memory" and error.jobs is None and set(engine.jobs) == {"a", "b"}
    assert engine.decode({"jobs": ["a"]})["jobs"][0]["job_id"] == "a"


def test_a_job_over_max_frames_runs_out_of_memory_alone_and_is_named(models_dir, tmp_path):
    engine = faulty(models_dir, tmp_path, max_frames=5)
    error = failure(engine.admit, {"jobs": [job_spec("small", frames=5), job_spec("long", frames=9)]})
    assert error.code == "out_of_memory" and error.jobs == ["long"] and error.to_reply()["retryable"] is True
    assert "job 'long' does not fit even alone" in error.message and "frame count" in error.message
    assert engine.jobs == {}
    assert failure(engine.admit, {"jobs": [job_spec("long", frames=9)]}).jobs == ["long"]
    assert engine.admit({"jobs": [job_spec("small", frames=5)]})["jobs"][0]["job_id"] == "small"


@pytest.mark.parametrize("device_error", [
    torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 31 GiB"),
    RuntimeError("CUBLAS_STATUS_ALLOC_FAILED: out of memory when calling cublasCreate(handle)"),
])
def test_a_real_device_oom_takes_the_same_path_as_the_fault(models_dir, tmp_path, monkeypatch, device_error):
    real = faulty(models_dir, tmp_path / "real")
    simulated = faulty(models_dir, tmp_path / "fault", max_batch=1)
    for engine in (real, simulated):
        admit_two(engine)
    transformer = real.family("tiny-t2v").transformer("main")

    def forward(*args, **kwargs):
        raise device_error

    monkeypatch.setattr(transformer, "forward", forward)
    step = {"model": "tiny-t2v", "expert": "main", "jobs": [{"job_id": "a", "index": 0}, {"job_id": "b", "index": 0}]}
    from_device, from_fault = failure(real.step, step).to_reply(), failure(simulated.step, step).to_reply()
    assert {k: v for k, v in from_device.items() if k != "message"} == {k: v for k, v in from_fault.items() if k != "message"}
    assert from_device["message"].split(" (device:")[0] == from_fault["message"].split(" (device:")[0]
    assert "out of memory" in from_device["message"].split(" (device:")[1]
    # A single job that does not fit is named.
    alone = failure(real.step, {"model": "tiny-t2v", "expert": "main", "jobs": [{"job_id": "a", "index": 0}]})
    assert alone.code == "out_of_memory" and alone.jobs == ["a"] and "does not fit even alone" in alone.message
    assert real.jobs["a"].index == 0


def test_other_failures_in_a_jobs_own_work_name_it(models_dir, tmp_path, monkeypatch):
    engine = faulty(models_dir, tmp_path)
    engine.load({"model": "tiny-t2v", "expert": "main"})
    engine.admit({"jobs": [job_spec("a", steps=1), job_spec("b", steps=1)]})
    engine.step({"model": "tiny-t2v", "expert": "main", "jobs": [{"job_id": "a", "index": 0}, {"job_id": "b", "index": 0}]})
    original = engine._decode_frames
    monkeypatch.setattr(engine, "_decode_frames", lambda family, job: original(family, job) if job.job_id == "a" else 1 / 0)
    error = failure(engine.decode, {"jobs": ["a", "b"]})
    assert error.code == "internal" and error.jobs == ["b"] and "ZeroDivisionError" in error.message
    assert set(engine.jobs) == {"a", "b"}  # decode commits only when every job decoded


def test_step_and_decode_entries_are_checked(models_dir, tmp_path):
    engine = faulty(models_dir, tmp_path)
    engine.admit({"jobs": [job_spec("a")]})
    twice = failure(engine.step, {"model": "tiny-t2v", "expert": "main", "jobs": [{"job_id": "a", "index": 0}] * 2})
    assert twice.code == "bad_request" and twice.jobs == ["a"]
    assert failure(engine.step, {"model": "tiny-t2v", "jobs": ["a"]}).code == "bad_request"
    assert failure(engine.decode, {"jobs": [7]}).code == "bad_request"
    not_loaded = failure(engine.step, {"model": "tiny-t2v", "expert": "main", "jobs": [{"job_id": "a", "index": 0}]})
    assert not_loaded.code == "not_loaded" and not_loaded.jobs is None  # the expert's, not the job's
    assert failure(engine.release, {"jobs": [None]}).code == "bad_request"


def test_over_the_wire_faults_are_reported_logged_and_delay_only_their_verbs(models_dir, tmp_path):
    env = {"TURBOSERVE_ENGINE_TEST_MAX_BATCH": "1", "TURBOSERVE_ENGINE_TEST_CALL_DELAY_MS": "400",
           "TURBOSERVE_ENGINE_TEST_DELAY_VERBS": "step"}
    process = EngineProcess(models_dir, tmp_path / "work", env)
    hello = process.call("hello", protocol=1)["result"]
    assert hello["test_faults"] == {"max_batch": 1, "call_delay_ms": 400, "delay_verbs": ["step"]}
    assert process.call("release", jobs=[])["compute_ms"] < 400
    started = time.monotonic()
    step = process.call("step", model="tiny-t2v", expert="main", jobs=[])
    assert step["ok"] and step["compute_ms"] >= 400 and time.monotonic() - started >= 0.4
    process.call("admit", jobs=[job_spec("a")])
    process.call("admit", jobs=[job_spec("b")])
    process.call("load", model="tiny-t2v", expert="main")
    error = process.call("step", model="tiny-t2v", expert="main", jobs=[{"job_id": "a", "index": 0}, {"job_id": "b", "index": 0}])["error"]
    assert error["code"] == "out_of_memory" and error["retryable"] and "jobs" not in error
    stderr = process.close()
    assert "TEST-ONLY fault settings are active" in stderr and "TEST-ONLY delay: step for 400 ms" in stderr


def test_an_engine_with_unusable_fault_settings_refuses_to_start(models_dir, tmp_path):
    process = EngineProcess(models_dir, tmp_path / "work", {"TURBOSERVE_ENGINE_TEST_MAX_FRAMES": "-3"})
    assert process.process.wait(timeout=60) == 2
    assert "TURBOSERVE_ENGINE_TEST_MAX_FRAMES must be an integer" in process.process.stderr.read()
    process.process.stdin.close(); process.process.stdout.close(); process.process.stderr.close()


def test_without_settings_hello_reports_no_faults(engine):
    assert engine.hello({"protocol": 1})["test_faults"] == {}


def test_a_poisoned_prompt_kills_the_engine_on_every_step_and_others_step_fine(models_dir, tmp_path):
    process = EngineProcess(models_dir, tmp_path / "work", {"TURBOSERVE_ENGINE_TEST_CRASH_ON_PROMPT": "poison"})
    assert process.call("hello", protocol=1)["result"]["test_faults"] == {"crash_on_prompt": "poison"}
    process.call("load", model="tiny-t2v", expert="main")
    process.call("admit", jobs=[job_spec("healthy"), job_spec("bad", prompt="a poison pill")])
    assert process.call("step", model="tiny-t2v", expert="main", jobs=[{"job_id": "healthy", "index": 0}])["ok"]
    process.process.stdin.write('{"id": 99, "op": "step", "args": {"model": "tiny-t2v", "expert": "main", "jobs": [{"job_id": "bad", "index": 0}]}}\n')
    process.process.stdin.flush()
    assert process.process.wait(timeout=60) == -9
    assert "TEST-ONLY crash: stepping bad kills the engine" in process.process.stderr.read()
    process.process.stdin.close(); process.process.stdout.close(); process.process.stderr.close()
