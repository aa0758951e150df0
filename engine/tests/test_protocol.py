"""The engine as the Swift bridge sees it: a subprocess speaking NDJSON, coded errors, nothing else on stdout."""

import json

from conftest import job_spec


def test_full_t2v_job_over_the_wire(engine_process, tmp_path):
    hello = engine_process.call("hello", protocol=1)
    assert hello["ok"] and hello["result"]["protocol"] == 1 and hello["result"]["device"] == "cpu"
    assert {m["id"] for m in hello["result"]["models"]} >= {"tiny-t2v", "tiny-i2v"}
    assert hello["result"]["kernels"] == {"sla": False, "sagesla": False, "quant_linear": False}
    assert engine_process.call("load", model="tiny-t2v", expert="main")["ok"]
    admitted = engine_process.call("admit", jobs=[job_spec("j1", width=112, height=64, frames=17, steps=2)])
    assert admitted["result"]["jobs"][0]["experts"] == ["main", "main"]
    for index in range(2):
        reply = engine_process.call("step", model="tiny-t2v", expert="main", jobs=[{"job_id": "j1", "index": index}])
        assert reply["result"]["jobs"] == [{"job_id": "j1", "completed": index + 1}]
        assert reply["compute_ms"] > 0
    decoded = engine_process.call("decode", jobs=["j1"])["result"]["jobs"][0]
    with open(decoded["frames_path"], "rb") as file:
        assert len(file.read()) == 17 * 64 * 112 * 3
    assert engine_process.call("stats")["result"]["jobs"] == []
    engine_process.call("shutdown")
    engine_process.close()  # asserts stdout had only protocol lines


def test_bad_input_gets_coded_errors_not_a_hang(engine_process):
    assert engine_process.raw("this is not json")["error"]["code"] == "bad_request"
    assert engine_process.raw(json.dumps({"op": "hello"}))["error"]["code"] == "bad_request"
    assert engine_process.call("frobnicate")["error"]["code"] == "unknown_op"
    assert engine_process.call("hello", protocol=99)["error"]["code"] == "protocol_mismatch"
    unknown = engine_process.call("step", model="tiny-t2v", expert="main", jobs=[{"job_id": "ghost", "index": 0}])["error"]
    assert unknown["code"] == "unknown_job" and unknown["jobs"] == ["ghost"] and unknown["retryable"] is False
    assert engine_process.call("load", model="no-such-model")["error"]["code"] == "model_missing"
    assert engine_process.call("admit", jobs=[job_spec("k", frames=10)])["error"]["code"] == "bad_input"
    assert engine_process.call("admit", jobs=[job_spec("k", attention="sagesla")])["error"]["code"] == "kernel_unavailable"
    assert engine_process.call("step", model="tiny-t2v", expert="main", jobs=[])["result"] == {"jobs": []}
    assert engine_process.call("hello", protocol=1)["ok"]  # still alive and answering


def test_step_mismatch_and_not_loaded(engine_process):
    engine_process.call("admit", jobs=[job_spec("m", steps=2)])
    not_loaded = engine_process.call("step", model="tiny-t2v", expert="main", jobs=[{"job_id": "m", "index": 0}])["error"]
    assert not_loaded["code"] == "not_loaded" and not_loaded["retryable"] is True
    engine_process.call("load", model="tiny-t2v")
    assert engine_process.call("step", model="tiny-t2v", expert="main", jobs=[{"job_id": "m", "index": 1}])["error"]["code"] == "step_mismatch"
    assert engine_process.call("decode", jobs=["m"])["error"]["code"] == "step_mismatch"
    assert engine_process.call("release", jobs=["m", "never"])["result"] == {"released": ["m"]}
