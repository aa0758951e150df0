"""Per-job admission validation: every job of an admit is checked alone before batching; an invalid job makes the
whole admit fail, naming exactly the invalid jobs, and the valid ones admit fine in the next call."""

import json

import numpy as np
import pytest
from PIL import Image

from conftest import job_spec, write_png_header
from turboserve_engine.errors import EngineError


def i2v(job_id: str, image: str, **overrides) -> dict:
    return job_spec(job_id, "tiny-i2v", image_path=image, frames=5, steps=2, **overrides)


def refusal(engine, jobs) -> EngineError:
    with pytest.raises(EngineError) as caught:
        engine.admit({"jobs": jobs})
    return caught.value


def assert_no_path(error: EngineError, *paths) -> None:
    text = json.dumps(error.to_reply())
    for path in paths:
        assert str(path) not in text
    assert "/tmp" not in text and "/work" not in text


def test_a_decompression_bomb_is_refused_alone_and_the_valid_job_admits_next(engine, image_path, tmp_path):
    bomb = write_png_header(tmp_path / "bomb.png", 30000, 30000)
    assert (tmp_path / "bomb.png").stat().st_size < 200  # small file, huge declared size
    error = refusal(engine, [i2v("good", image_path), i2v("bomb", bomb)])
    assert error.code == "invalid_image" and error.jobs == ["bomb"] and error.code not in ("out_of_memory", "not_loaded")
    assert error.to_reply()["retryable"] is False
    assert "900,000,000 pixels" in error.message and "send a smaller image" in error.message
    assert set(error.problems) == {"bomb"}
    assert_no_path(error, bomb, tmp_path)
    assert engine.jobs == {}  # none of the batch was admitted
    admitted = engine.admit({"jobs": [i2v("good", image_path)]})
    assert [job["job_id"] for job in admitted["jobs"]] == ["good"] and set(engine.jobs) == {"good"}


def test_a_header_just_over_the_cap_is_refused_through_pillows_warning(engine, tmp_path):
    # 7000×7000 = 49 M pixels: over the engine's 40 M cap but under twice it, where Pillow only warns.
    error = refusal(engine, [i2v("big", write_png_header(tmp_path / "big.png", 7000, 7000))])
    assert error.code == "invalid_image" and error.jobs == ["big"] and "49,000,000 pixels" in error.message


def test_a_truncated_png_is_refused_alone(engine, image_path, tmp_path):
    data = open(image_path, "rb").read()
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(data[: len(data) * 2 // 3])
    error = refusal(engine, [i2v("good", image_path), i2v("cut", str(truncated))])
    assert error.code == "invalid_image" and error.jobs == ["cut"]
    assert "truncated" in error.message or "corrupt" in error.message
    assert "send the complete file again" in error.message
    assert_no_path(error, truncated)
    assert engine.jobs == {}
    assert [job["job_id"] for job in engine.admit({"jobs": [i2v("good", image_path)]})["jobs"]] == ["good"]


def test_a_truncated_jpeg_is_refused(engine, tmp_path):
    full = tmp_path / "full.jpg"
    Image.fromarray((np.random.RandomState(1).rand(64, 64, 3) * 255).astype("uint8")).save(full, quality=90)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(full.read_bytes()[:600])
    error = refusal(engine, [i2v("cut", str(cut))])
    assert error.code == "invalid_image" and error.jobs == ["cut"]


def test_formats_missing_files_and_non_images(engine, tmp_path):
    gif = tmp_path / "x.gif"
    Image.new("RGB", (32, 32)).save(gif)
    text = tmp_path / "notes.png"
    text.write_text("not an image at all")
    error = refusal(engine, [i2v("gif", str(gif)), i2v("text", str(text)), i2v("gone", str(tmp_path / "gone.png"))])
    assert error.code == "invalid_image" and error.jobs == ["gif", "text", "gone"]
    assert "GIF format are not accepted" in error.problems["gif"] and "PNG, JPEG, WebP or PPM" in error.problems["gif"]
    assert "not an image" in error.problems["text"]
    assert "missing" in error.problems["gone"] and "upload it again" in error.problems["gone"]
    assert_no_path(error, tmp_path)


def test_shape_prompt_and_model_are_checked_per_job_with_mixed_codes(engine, image_path):
    jobs = [job_spec("ok"), job_spec("frames", frames=10), job_spec("empty", prompt="   "),
            job_spec("wide", width=8192), job_spec("ghost", model="no-such-model"), i2v("noimage", None),
            job_spec("attn", attention="flash")]
    error = refusal(engine, jobs)
    assert error.code == "bad_input" and error.jobs == ["frames", "empty", "wide", "ghost", "noimage", "attn"]
    assert "4k+1" in error.problems["frames"] and "describe the video" in error.problems["empty"]
    assert "not installed" in error.problems["ghost"] and "tiny-t2v" in error.problems["ghost"]
    assert "6 of 7 jobs cannot be admitted" in error.message
    assert engine.jobs == {}
    assert engine.admit({"jobs": [job_spec("ok")]})["jobs"][0]["job_id"] == "ok"


def test_one_code_when_every_problem_shares_it(engine):
    error = refusal(engine, [job_spec("a", model="nope"), job_spec("b"), job_spec("c", model="nope")])
    assert error.code == "model_missing" and error.jobs == ["a", "c"]
    error = refusal(engine, [job_spec("k", attention="sagesla"), job_spec("q", quant_linear=True)])
    assert error.code == "kernel_unavailable" and error.jobs == ["k", "q"]


def test_ids_duplicates_and_already_admitted(engine):
    error = refusal(engine, [job_spec("a"), {"model": "tiny-t2v"}])
    assert error.code == "bad_request" and error.jobs is None  # a job without an id cannot be named
    error = refusal(engine, [job_spec("twice"), job_spec("twice"), job_spec("once")])
    assert error.jobs == ["twice"]
    engine.admit({"jobs": [job_spec("held")]})
    error = refusal(engine, [job_spec("held"), job_spec("new")])
    assert error.jobs == ["held"] and "already admitted" in error.message and set(engine.jobs) == {"held"}


def test_over_the_wire_the_error_names_the_jobs_and_their_problems(engine_process, image_path, tmp_path):
    bomb = write_png_header(tmp_path / "bomb.png", 30000, 30000)
    reply = engine_process.call("admit", jobs=[i2v("good", image_path), i2v("bomb", bomb)])
    assert reply["ok"] is False
    assert reply["error"]["code"] == "invalid_image" and reply["error"]["jobs"] == ["bomb"]
    assert reply["error"]["retryable"] is False and list(reply["error"]["problems"]) == ["bomb"]
    assert engine_process.call("stats")["result"]["jobs"] == []
    assert engine_process.call("admit", jobs=[i2v("good", image_path)])["ok"]


def test_text_states_match_a_full_length_encoding_for_prompts_of_different_lengths(engine):
    """The encoder runs over the batch's longest prompt only; the states it returns must be those of the 512-token
    encoding the model was trained with (zero past each prompt), for every prompt of a mixed batch."""
    import torch

    from turboserve_engine.engine import MAX_TEXT_TOKENS

    family = engine.family("tiny-t2v")
    family.ensure_shared()
    prompts = ["a fox", "a much longer prompt about a red fox running through deep snow at dusk, filmed from a drone"]
    short = engine._encode_text(family, prompts)
    tokens = family.tokenizer(prompts, padding="max_length", max_length=MAX_TEXT_TOKENS, truncation=True,
                              add_special_tokens=True, return_attention_mask=True, return_tensors="pt")
    with torch.inference_mode():
        full = family.text_encoder(tokens.input_ids, tokens.attention_mask).last_hidden_state
    full = full * tokens.attention_mask.unsqueeze(-1)
    assert short.shape == full.shape == (2, MAX_TEXT_TOKENS, full.shape[-1])
    assert torch.allclose(short, full, atol=1e-5), (short - full).abs().max()
    lengths = tokens.attention_mask.sum(dim=1).tolist()
    assert lengths[0] < lengths[1]
    assert short[0, lengths[0]:].abs().max() == 0 and short[0, :lengths[0]].abs().max() > 0
