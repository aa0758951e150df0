"""Host copies and streamed loads (turboserve_engine/weights.py): disk is read once, a load returns while blocks are
still arriving, each block's forward waits for its own weights only, copy errors surface, unload waits then frees.

The copier is held or failed at a chosen group through `weights.copy_group`; every wait below is on an event or a
join, bounded only as a guard against a deadlock (never a sleep to let something happen)."""

import gc
import threading
import weakref

import pytest
import torch

from conftest import job_spec
from turboserve_engine import weights
from turboserve_engine.errors import EngineError
from turboserve_engine.models import ModelFamily

GUARD = 60.0  # seconds; only ever reached if something deadlocks
MAIN = {"model": "tiny-t2v", "expert": "main"}
BLOCK_1 = 2  # group 0 is everything outside the blocks, group k + 1 is block k; the tiny models have blocks 0 and 1


class Copier:
    """Controls the copier thread and watches the engine thread wait for it."""

    def __init__(self, monkeypatch):
        self.hold_at = None
        self.fail_at = None
        self.reached = threading.Event()  # the copier is at the held group, every earlier group copied
        self.released = threading.Event()
        self.copied: list[int] = []
        self.waiting = {group: threading.Event() for group in range(3)}  # a forward hook waits for this group
        self.finishing = threading.Event()  # someone waits for a whole copy (unload)
        copy_group, wait, finish = weights.copy_group, weights._Transfer.wait, weights._Transfer.finish

        def gated_copy(index, pairs, non_blocking):
            if index == self.hold_at:
                self.reached.set()
                assert self.released.wait(GUARD)
            if index == self.fail_at:
                self.fail_at = None  # once: the next load copies normally
                raise RuntimeError("injected copy failure")
            copy_group(index, pairs, non_blocking)
            self.copied.append(index)

        def watched_wait(transfer, group):
            self.waiting[group].set()
            wait(transfer, group)

        def watched_finish(transfer):
            self.finishing.set()
            finish(transfer)

        monkeypatch.setattr(weights, "copy_group", gated_copy)
        monkeypatch.setattr(weights._Transfer, "wait", watched_wait)
        monkeypatch.setattr(weights._Transfer, "finish", watched_finish)

    def hold(self, group: int | None) -> None:
        self.hold_at, self.copied = group, []
        for event in (self.reached, self.released, self.finishing, *self.waiting.values()):
            event.clear()

    def release(self) -> None:
        self.released.set()


@pytest.fixture()
def copier(monkeypatch):
    control = Copier(monkeypatch)
    yield control
    control.release()  # never leave the shared copier thread held


@pytest.fixture()
def disk_reads(monkeypatch):
    reads = []
    load_transformer = ModelFamily._load_transformer

    def counted(self, expert):
        reads.append(expert)
        return load_transformer(self, expert)

    monkeypatch.setattr(ModelFamily, "_load_transformer", counted)
    return reads


def in_thread(function):
    """Runs function on a thread; returns the thread and a list that receives its result or exception."""
    outcome = []

    def run():
        try:
            outcome.append(function())
        except BaseException as error:  # noqa: BLE001 — handed to the test
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def joined(thread, outcome):
    thread.join(GUARD)
    assert not thread.is_alive(), "deadlock"
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def step(engine, job_id, index):
    return engine.step({**MAIN, "jobs": [{"job_id": job_id, "index": index}]})


def host_and_device(engine):
    streamed = engine.families["tiny-t2v"].weights["main"]
    return streamed.host.state_dict(), streamed.module(wait=True).state_dict()


def test_reload_copies_from_the_host_copy_not_the_disk(engine, disk_reads):
    first = engine.load(dict(MAIN))
    assert first["resident"] == [MAIN] and first["free_memory_bytes"] > 0 and isinstance(first["streaming"], bool)
    streamed = engine.families["tiny-t2v"].weights["main"]
    host, device_copy = streamed.host, weakref.ref(streamed.module(wait=True))
    assert engine.unload(dict(MAIN))["resident"] == []
    gc.collect()
    assert device_copy() is None  # the device copy is freed ...
    assert engine.families["tiny-t2v"].weights["main"].host is host  # ... the host copy stays
    assert engine.load(dict(MAIN))["resident"] == [MAIN]
    assert disk_reads == ["main"]
    host_state, device_state = host_and_device(engine)
    assert host_state.keys() == device_state.keys()
    assert all(torch.equal(device_state[name], host_state[name]) for name in host_state)


@pytest.mark.parametrize("held", [False, True])
def test_step_right_after_a_streamed_load_is_bit_identical(engine, copier, held):
    engine.load(dict(MAIN))
    engine.families["tiny-t2v"].weights["main"].finish()  # a fully completed load
    engine.admit({"jobs": [job_spec("after-completed", seed=5), job_spec("after-streamed", seed=5)]})
    for index in range(4):
        step(engine, "after-completed", index)
    engine.unload(dict(MAIN))
    copier.hold(0 if held else None)  # held: nothing has arrived when the step starts
    streaming = engine.load(dict(MAIN))["streaming"]
    assert streaming or not held
    thread, outcome = in_thread(lambda: [step(engine, "after-streamed", index) for index in range(4)])
    if held:
        assert copier.waiting[0].wait(GUARD)  # the forward is waiting for group 0
        copier.release()
    joined(thread, outcome)
    assert torch.equal(engine.jobs["after-streamed"].x, engine.jobs["after-completed"].x)


def test_a_block_waits_for_its_own_weights_only(engine, copier):
    engine.admit({"jobs": [job_spec("j", seed=3)]})
    copier.hold(BLOCK_1)
    assert engine.load(dict(MAIN))["streaming"] is True
    assert copier.reached.wait(GUARD) and copier.copied == [0, 1]  # everything but block 1 has arrived
    module = engine.families["tiny-t2v"].weights["main"].module()
    block_0_done, block_1_entered = threading.Event(), threading.Event()
    module.blocks[0].register_forward_hook(lambda *_: block_0_done.set())
    module.blocks[1].register_forward_pre_hook(lambda *_: block_1_entered.set())  # runs after the streaming hook
    thread, outcome = in_thread(lambda: step(engine, "j", 0))
    assert block_0_done.wait(GUARD)  # block 0 ran while block 1 was still held back
    assert copier.waiting[BLOCK_1].wait(GUARD)  # the forward waits for block 1 ...
    assert not block_1_entered.is_set() and thread.is_alive()  # ... and has not passed it
    copier.release()
    assert joined(thread, outcome) == {"jobs": [{"job_id": "j", "completed": 1}]}
    assert block_1_entered.is_set() and copier.copied == [0, 1, 2]


def test_a_copy_error_surfaces_on_the_next_step(engine, copier, disk_reads):
    engine.admit({"jobs": [job_spec("j", seed=3)]})
    copier.fail_at = BLOCK_1
    engine.load(dict(MAIN))
    with pytest.raises(EngineError) as raised:
        step(engine, "j", 0)
    assert raised.value.code == "internal" and "injected copy failure" in raised.value.message
    assert engine.resident() == [] and engine.jobs["j"].index == 0  # the broken copy is gone, the job untouched
    with pytest.raises(EngineError) as again:
        step(engine, "j", 0)
    assert again.value.code == "not_loaded"  # reported once
    assert engine.load(dict(MAIN))["resident"] == [MAIN]  # a new load copies from the host copy again
    assert step(engine, "j", 0) == {"jobs": [{"job_id": "j", "completed": 1}]}
    assert disk_reads == ["main"]


def test_a_copy_error_surfaces_on_the_next_load(engine, copier):
    copier.fail_at = 0
    engine.load(dict(MAIN))
    engine.families["tiny-t2v"].weights["main"].finish()  # the copy has failed by now
    with pytest.raises(EngineError, match="injected copy failure"):
        engine.load(dict(MAIN))
    assert engine.resident() == []
    assert engine.load(dict(MAIN))["resident"] == [MAIN]
    host_state, device_state = host_and_device(engine)
    assert all(torch.equal(device_state[name], host_state[name]) for name in host_state)


def test_unload_while_streaming_waits_then_frees(engine, copier):
    copier.hold(1)
    assert engine.load(dict(MAIN))["streaming"] is True
    assert copier.reached.wait(GUARD)
    device_copy = weakref.ref(engine.families["tiny-t2v"].weights["main"].module())
    thread, outcome = in_thread(lambda: engine.unload(dict(MAIN)))
    assert copier.finishing.wait(GUARD)  # unload waits for the copy ...
    assert thread.is_alive() and copier.copied == [0]  # ... which is still held
    copier.release()
    assert joined(thread, outcome)["resident"] == []
    assert copier.copied == [0, 1, 2]
    gc.collect()
    assert device_copy() is None


def test_the_wire_reports_streaming_and_weight_transfers(engine_process):
    assert engine_process.call("hello", protocol=1)["result"]["weight_transfers"] == "streamed"
    loaded = engine_process.call("load", model="tiny-t2v", expert="main")["result"]
    assert loaded["resident"] == [MAIN] and loaded["free_memory_bytes"] > 0 and isinstance(loaded["streaming"], bool)
    assert engine_process.call("load", model="tiny-t2v")["result"]["resident"] == [MAIN]  # expert defaults to main
    assert engine_process.call("unload", model="tiny-t2v", expert="main")["result"]["resident"] == []
    engine_process.call("shutdown")
    engine_process.close()
