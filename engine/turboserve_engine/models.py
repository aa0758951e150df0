"""Models on disk and on the device.

A model folder has a `turboserve.json` manifest. `source: diffusers` folders hold `tokenizer/`, `text_encoder/`,
`vae/`, `transformer/` (main or high-noise expert) and `transformer_2/` (low-noise expert).
`source: turbodiffusion` folders hold the same shared parts plus upstream `.pth` DiT checkpoints named in
`checkpoints` (`{"main": "TurboWan2.1-T2V-1.3B-480P.pth"}`) and a diffusers `transformer/config.json`
(or `transformer_config`), converted on load by `convert.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from .convert import turbodiffusion_to_diffusers
from .errors import EngineError
from .weights import StreamedWeights

EXPERT_FOLDERS = {"main": "transformer", "high": "transformer", "low": "transformer_2"}


def read_manifests(models_dir: Path) -> dict[str, dict]:
    manifests = {}
    if models_dir.is_dir():
        for folder in sorted(models_dir.iterdir()):
            manifest_path = folder / "turboserve.json"
            if folder.is_dir() and manifest_path.exists():
                manifest = json.loads(manifest_path.read_text())
                manifest["path"] = str(folder)
                manifests[manifest["id"]] = manifest
    return manifests


class ModelFamily:
    """One model's parts. The tokenizer, text encoder and VAE load with the first expert (or admit) and stay;
    experts load and unload individually. An expert's weights are read from disk once and kept on the host
    (`weights.StreamedWeights`): `unload` frees only the device copy, and `load` streams the blocks back to the device
    and returns while they are still arriving. Not thread-safe: the engine is single-threaded by design (the copier
    thread of `weights.py` is the only other one)."""

    def __init__(self, manifest: dict, device: torch.device, dtype: torch.dtype):
        self.manifest = manifest
        self.path = Path(manifest["path"])
        self.device = device
        self.dtype = dtype
        self.tokenizer = None
        self.text_encoder = None
        self.vae = None
        self.weights: dict[str, StreamedWeights] = {}

    @property
    def task(self) -> str:
        return self.manifest["task"]

    @property
    def resident_experts(self) -> list[str]:
        return sorted(name for name, weights in self.weights.items() if weights.resident)

    @property
    def experts(self) -> dict[str, torch.nn.Module]:
        """The loaded experts' device copies once every copy under way has finished (for reading tensors directly);
        a forward should use `transformer`, which does not wait for the whole copy."""
        return {name: self.weights[name].module(wait=True) for name in self.resident_experts}

    def ensure_shared(self) -> None:
        if self.text_encoder is not None:
            return
        from diffusers import AutoencoderKLWan
        from transformers import AutoTokenizer, UMT5EncoderModel

        self.tokenizer = AutoTokenizer.from_pretrained(self.path / "tokenizer")
        self.text_encoder = UMT5EncoderModel.from_pretrained(self.path / "text_encoder", torch_dtype=self.dtype).to(self.device).eval()
        self.vae = AutoencoderKLWan.from_pretrained(self.path / "vae", torch_dtype=torch.float32).to(self.device).eval()

    def load(self, expert: str) -> bool:
        """Makes the expert resident (reading disk only the first time) and returns whether its blocks are still
        arriving. Raises the error of an earlier copy of this expert that failed (the next load starts afresh)."""
        if expert not in self.manifest["experts"]:
            raise EngineError("bad_input", f"model '{self.manifest['id']}' has experts {self.manifest['experts']}, not '{expert}'")
        self.ensure_shared()
        weights = self.weights.get(expert)
        if weights is None:
            host = self._load_transformer(expert).eval()
            weights = self.weights[expert] = StreamedWeights(host, self.device, f"{self.manifest['id']}/{expert}")
        weights.load()
        return weights.streaming

    def unload(self, expert: str) -> None:
        """Frees the expert's device copy (after a copy still under way has finished); its host copy stays."""
        weights = self.weights.get(expert)
        if weights is not None and weights.resident:
            weights.unload()
            if self.device.type == "cuda":
                torch.cuda.empty_cache()

    def transformer(self, expert: str) -> torch.nn.Module | None:
        """The expert's device copy for a forward, or None if it is not loaded. Raises a failed copy's error."""
        weights = self.weights.get(expert)
        return weights.module() if weights is not None else None

    def _load_transformer(self, expert: str) -> torch.nn.Module:
        from diffusers import WanTransformer3DModel

        if self.manifest.get("source", "diffusers") == "diffusers":
            return WanTransformer3DModel.from_pretrained(self.path / EXPERT_FOLDERS[expert], torch_dtype=self.dtype)
        checkpoint = self.manifest["checkpoints"][expert]
        config_path = self.path / self.manifest.get("transformer_config", "transformer/config.json")
        config = json.loads(Path(config_path).read_text())
        model = WanTransformer3DModel.from_config(config)
        state = torch.load(self.path / checkpoint, map_location="cpu", weights_only=True)
        if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
            state = state["model"]
        converted = turbodiffusion_to_diffusers(dict(state), in_channels=config["in_channels"])
        missing, unexpected = model.load_state_dict(converted, strict=False)
        if missing or unexpected:
            raise EngineError("bad_input", f"checkpoint {checkpoint} does not match the architecture: missing {missing[:5]}, unexpected {unexpected[:5]}")
        return model.to(self.dtype)
