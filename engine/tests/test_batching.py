"""Batched equals unbatched; the same seed gives the same bytes; I2V expert calls follow the boundary."""

import torch

from conftest import job_spec

TOLERANCE = 1e-5  # fp32 forwards on CPU; batched vs solo differ only by float reassociation


def run_solo(engine, spec):
    engine.admit({"jobs": [spec]})
    for index in range(spec["steps"]):
        engine.step({"model": spec["model"], "expert": engine.jobs[spec["job_id"]].experts[index], "jobs": [{"job_id": spec["job_id"], "index": index}]})
    return engine.jobs[spec["job_id"]].x.clone()


def test_jobs_at_different_steps_in_one_call_match_solo_runs(engine):
    engine.load({"model": "tiny-t2v"})
    a, b = job_spec("a", seed=1), job_spec("b", seed=2, prompt="waves crash on a rocky shore")
    solo_a, solo_b = run_solo(engine, dict(a, job_id="solo-a")), run_solo(engine, dict(b, job_id="solo-b"))
    engine.admit({"jobs": [a]})
    engine.step({"model": "tiny-t2v", "expert": "main", "jobs": [{"job_id": "a", "index": 0}]})
    engine.admit({"jobs": [b]})  # b joins at a step boundary while a is at step 1
    for index in range(3):
        engine.step({"model": "tiny-t2v", "expert": "main", "jobs": [{"job_id": "a", "index": index + 1}, {"job_id": "b", "index": index}]})
    engine.step({"model": "tiny-t2v", "expert": "main", "jobs": [{"job_id": "b", "index": 3}]})
    assert (engine.jobs["a"].x - solo_a).abs().max().item() <= TOLERANCE
    assert (engine.jobs["b"].x - solo_b).abs().max().item() <= TOLERANCE
    assert not torch.equal(engine.jobs["a"].x, engine.jobs["b"].x)


def test_same_seed_same_video_bytes(engine):
    engine.load({"model": "tiny-t2v"})
    outputs = []
    for job_id in ("first", "second"):
        run_solo(engine, job_spec(job_id, seed=42))
        reply = engine.decode({"jobs": [job_id]})["jobs"][0]
        with open(reply["frames_path"], "rb") as file:
            outputs.append(file.read())
        assert reply["frames"] == 9 and len(outputs[-1]) == 9 * 64 * 64 * 3
    assert outputs[0] == outputs[1]
    run_solo(engine, job_spec("other", seed=43))
    with open(engine.decode({"jobs": ["other"]})["jobs"][0]["frames_path"], "rb") as file:
        assert file.read() != outputs[0]


def test_i2v_expert_calls_follow_the_boundary(engine, image_path):
    engine.load({"model": "tiny-i2v", "expert": "high"})
    engine.load({"model": "tiny-i2v", "expert": "low"})
    for steps, expected in [(4, {"high": 2, "low": 2}), (2, {"high": 2})]:
        job_id = f"i2v-{steps}"
        run_solo(engine, job_spec(job_id, model="tiny-i2v", image_path=image_path, steps=steps, sigma_max=200))
        reply = engine.decode({"jobs": [job_id]})["jobs"][0]
        assert reply["expert_calls"] == expected


def test_an_adaptive_job_renders_at_the_size_it_carries(engine, image_path):
    # The control plane derives an adaptive job's size from the image (FrameSize.following); the engine renders
    # exactly that size, never a second opinion of its own.
    reply = engine.admit({"jobs": [job_spec("ar", model="tiny-i2v", image_path=image_path, adaptive_resolution=True, width=80, height=48)]})
    job = reply["jobs"][0]
    assert (job["width"], job["height"]) == (80, 48)
    assert engine.jobs["ar"].condition.shape == (1, 20, 3, 6, 10)
