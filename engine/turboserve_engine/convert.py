"""TurboDiffusion's released `.pth` DiT checkpoints → diffusers' WanTransformer3DModel layout.

Upstream keys carry `net.` / `_checkpoint_wrapped_module.` prefixes and SLA `proj_l` weights (unused by dense
attention); the patch embedding is stored as a Linear `[dim, C*1*2*2]` where diffusers has a Conv3d
`[dim, C, 1, 2, 2]`; `-quant` checkpoints store `int8_weight[out, in]` with a float32 `scale` per 128×128 block.
After this clean-up, the remaining names are Wan's original ones, which diffusers' own converter maps.
"""

from __future__ import annotations

import torch

BLOCK = 128
PREFIXES = ("net.", "model.")


def dequantize_blockwise(int8_weight: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """W[o, i] = int8[o, i] * scale[o // 128, i // 128]."""
    out_features, in_features = int8_weight.shape
    expanded = scale.float().repeat_interleave(BLOCK, dim=0)[:out_features].repeat_interleave(BLOCK, dim=1)[:, :in_features]
    return int8_weight.float() * expanded


def quantize_blockwise(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The inverse (symmetric, per 128×128 block), used to synthesise `-quant` checkpoints in tests."""
    out_features, in_features = weight.shape
    rows, cols = -(-out_features // BLOCK), -(-in_features // BLOCK)
    scale = torch.zeros(rows, cols)
    q = torch.zeros_like(weight, dtype=torch.int8)
    for r in range(rows):
        for c in range(cols):
            block = weight[r * BLOCK:(r + 1) * BLOCK, c * BLOCK:(c + 1) * BLOCK]
            s = block.abs().max().clamp(min=1e-12) / 127.0
            scale[r, c] = s
            q[r * BLOCK:(r + 1) * BLOCK, c * BLOCK:(c + 1) * BLOCK] = (block / s).round().clamp(-127, 127).to(torch.int8)
    return q, scale


def clean_turbodiffusion_state(state: dict[str, torch.Tensor], in_channels: int) -> dict[str, torch.Tensor]:
    """Prefix strip, SLA weights dropped, int8 blocks dequantised, patch embedding reshaped: Wan's original names."""
    cleaned: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        name = key.replace("_checkpoint_wrapped_module.", "")
        for prefix in PREFIXES:
            if name.startswith(prefix) and not name.startswith("model.diffusion_model."):
                name = name[len(prefix):]
        if "proj_l" in name:
            continue
        cleaned[name] = tensor
    for name in [k for k in cleaned if k.endswith(".int8_weight")]:
        base = name[: -len("int8_weight")]
        cleaned[base + "weight"] = dequantize_blockwise(cleaned.pop(name), cleaned.pop(base + "scale"))
    patch = cleaned.get("patch_embedding.weight")
    if patch is not None and patch.ndim == 2:
        cleaned["patch_embedding.weight"] = patch.reshape(patch.shape[0], in_channels, 1, 2, 2)
    return cleaned


def turbodiffusion_to_diffusers(state: dict[str, torch.Tensor], in_channels: int) -> dict[str, torch.Tensor]:
    from diffusers.loaders.single_file_utils import convert_wan_transformer_to_diffusers

    return convert_wan_transformer_to_diffusers(clean_turbodiffusion_state(state, in_channels))


# Wan original name ← diffusers name, applied in order; used by tests to synthesise upstream-layout checkpoints.
_TO_ORIGINAL = [
    ("condition_embedder.time_embedder.linear_1", "time_embedding.0"),
    ("condition_embedder.time_embedder.linear_2", "time_embedding.2"),
    ("condition_embedder.text_embedder.linear_1", "text_embedding.0"),
    ("condition_embedder.text_embedder.linear_2", "text_embedding.2"),
    ("condition_embedder.time_proj", "time_projection.1"),
    ("attn1", "self_attn"),
    ("attn2", "cross_attn"),
    (".to_out.0.", ".o."),
    (".to_q.", ".q."),
    (".to_k.", ".k."),
    (".to_v.", ".v."),
    ("ffn.net.0.proj", "ffn.0"),
    ("ffn.net.2", "ffn.2"),
    ("proj_out", "head.head"),
    ("norm2", "norm__swap"),
    ("norm3", "norm2"),
    ("norm__swap", "norm3"),
]


def diffusers_to_original_name(name: str) -> str:
    if name == "scale_shift_table":
        return "head.modulation"
    for old, new in _TO_ORIGINAL:
        name = name.replace(old, new)
    return name.replace("scale_shift_table", "modulation")
