"""A checkpoint in TurboDiffusion's key layout (synthesised from the tiny diffusers model) loads through the
manifest path and computes exactly what the diffusers model computes; the int8 `-quant` variant matches within
its quantisation error."""

import json
import shutil

import pytest
import torch

from turboserve_engine.convert import diffusers_to_original_name, quantize_blockwise
from turboserve_engine.models import ModelFamily, read_manifests


def upstream_state(transformer, quantize: bool) -> dict:
    """diffusers → TurboDiffusion layout: original names, `net.` and checkpoint-wrapper prefixes, SLA proj_l,
    Linear-shaped patch embedding, optionally int8 blocks for every 2-D Linear weight."""
    state = {}
    for name, tensor in transformer.state_dict().items():
        original = diffusers_to_original_name(name)
        if original == "patch_embedding.weight":
            tensor = tensor.reshape(tensor.shape[0], -1)
        if original.startswith("blocks."):
            index, rest = original[len("blocks."):].split(".", 1)
            original = f"blocks.{index}._checkpoint_wrapped_module.{rest}"
        key = "net." + original
        if quantize and key.endswith(".weight") and tensor.ndim == 2 and "patch_embedding" not in key and ("attn" in key or "ffn" in key):
            q, scale = quantize_blockwise(tensor.float())
            state[key[: -len("weight")] + "int8_weight"] = q
            state[key[: -len("weight")] + "scale"] = scale
        else:
            state[key] = tensor.clone()
    state["net.blocks.0._checkpoint_wrapped_module.self_attn.proj_l.weight"] = torch.randn(4, 4)
    return state


@pytest.mark.parametrize("quantize,tolerance", [(False, 1e-6), (True, 5e-2)])
def test_turbodiffusion_layout_matches_diffusers(models_dir, tmp_path, quantize, tolerance):
    source = models_dir / "tiny-t2v"
    target = tmp_path / "tiny-t2v-upstream"
    shutil.copytree(source, target)
    family = ModelFamily(read_manifests(models_dir)["tiny-t2v"], torch.device("cpu"), torch.float32)
    family.load("main")
    reference = family.experts["main"]
    checkpoint = "TurboTiny-T2V" + ("-quant" if quantize else "") + ".pth"
    torch.save(upstream_state(reference, quantize), target / checkpoint)
    manifest = json.loads((target / "turboserve.json").read_text())
    manifest.update({"id": "tiny-t2v-upstream", "source": "turbodiffusion", "checkpoints": {"main": checkpoint}})
    (target / "turboserve.json").write_text(json.dumps(manifest))
    for weights in (target / "transformer").glob("*.safetensors"):
        weights.unlink()  # only the config stays: the weights must come from the .pth
    upstream = ModelFamily(read_manifests(tmp_path)["tiny-t2v-upstream"], torch.device("cpu"), torch.float32)
    upstream.load("main")
    x = torch.randn(2, 16, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    text = torch.randn(2, 12, 32, generator=torch.Generator().manual_seed(1))
    t = torch.tensor([987.0, 608.0])
    with torch.inference_mode():
        expected = reference(hidden_states=x, timestep=t, encoder_hidden_states=text, return_dict=False)[0]
        actual = upstream.experts["main"](hidden_states=x, timestep=t, encoder_hidden_states=text, return_dict=False)[0]
    assert (actual - expected).abs().max().item() <= tolerance
