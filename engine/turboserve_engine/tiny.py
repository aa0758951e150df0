"""The tiny profiles: the real Wan architecture with a few thousand random parameters, so every test, the demo and
CI run on a CPU in seconds. Built with a fixed seed, saved in diffusers layout, loaded by the same code as real
checkpoints. Their videos are abstract noise by design.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import torch

TINY_PROFILES = {
    "tiny-t2v": {"task": "t2v", "experts": ["main"], "boundary": None},
    "tiny-i2v": {"task": "i2v", "experts": ["high", "low"], "boundary": 0.9},
}

# A small built-in corpus for the tokenizer (sentencepiece unigram, trained on the fly).
CORPUS = [
    "a red fox running through snow",
    "waves crash on a rocky shore at sunset",
    "a cat sleeps on a warm windowsill",
    "city lights at night in the rain",
    "a bird flies over green mountains",
    "an astronaut walks on the moon",
    "flowers bloom in a spring garden",
    "a train crosses a bridge over a river",
    "a dog plays with a ball in the park",
    "clouds drift over a quiet lake",
]


def build_tokenizer():
    import sentencepiece as spm
    from transformers import T5Tokenizer

    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS * 4), model_writer=buffer, vocab_size=48, model_type="unigram",
        hard_vocab_limit=False, minloglevel=2, pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
    )
    processor = spm.SentencePieceProcessor(model_proto=buffer.getvalue())
    pieces = [(processor.id_to_piece(i), processor.get_score(i)) for i in range(processor.get_piece_size())]
    # transformers 5 ignores vocab_file for T5Tokenizer; the vocab list is the way in.
    return T5Tokenizer(vocab=pieces, extra_ids=0)


def tiny_transformer(in_channels: int):
    from diffusers import WanTransformer3DModel

    return WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=in_channels,
        out_channels=16, text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True,
        qk_norm="rms_norm_across_heads", rope_max_seq_len=32,
    )


def tiny_vae():
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True],
        latents_mean=[0.0] * 16, latents_std=[1.0] * 16,
    )


def tiny_text_encoder(vocab_size: int):
    from transformers import UMT5Config, UMT5EncoderModel

    return UMT5EncoderModel(UMT5Config(
        vocab_size=vocab_size, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
        relative_attention_num_buckets=8, dropout_rate=0.0, pad_token_id=0, eos_token_id=1,
    ))


def build_tiny(model_id: str, models_dir: Path, seed: int = 20261124) -> Path:
    """Builds one tiny profile into models_dir/model_id (atomically: a temp folder renamed into place)."""
    profile = TINY_PROFILES[model_id]
    target = models_dir / model_id
    staging = models_dir / f".{model_id}.building-{os.getpid()}"
    staging.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    tokenizer = build_tokenizer()
    tokenizer.save_pretrained(staging / "tokenizer")
    tiny_text_encoder(len(tokenizer)).save_pretrained(staging / "text_encoder")
    tiny_vae().save_pretrained(staging / "vae")
    in_channels = 36 if profile["task"] == "i2v" else 16
    tiny_transformer(in_channels).save_pretrained(staging / "transformer")
    if profile["experts"] == ["high", "low"]:
        tiny_transformer(in_channels).save_pretrained(staging / "transformer_2")
    manifest = {"id": model_id, "source": "diffusers", "tiny": True, **profile}
    (staging / "turboserve.json").write_text(json.dumps(manifest, indent=2))
    staging.rename(target)
    return target


def ensure_tiny(models_dir: Path) -> dict:
    """Builds whichever tiny profiles are missing; reports what was built and what was present."""
    models_dir.mkdir(parents=True, exist_ok=True)
    built, present = [], []
    for model_id in TINY_PROFILES:
        if (models_dir / model_id / "turboserve.json").exists():
            present.append(model_id)
        else:
            build_tiny(model_id, models_dir)
            built.append(model_id)
    return {"built": built, "present": present}
