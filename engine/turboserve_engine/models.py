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
    experts load and unload individually. Not thread-safe: the engine is single-threaded by design."""

    def __init__(self, manifest: dict, device: torch.device, dtype: torch.dtype):
        self.manifest = manifest
        self.path = Path(manifest["path"])
        self.device = device
        self.dtype = dtype
        self.tokenizer = None
        self.text_encoder = None
        self.vae = None
        self.experts: dict[str, torch.nn.Module] = {}

    @property
    def task(self) -> str:
        return self.manifest["task"]

    def ensure_shared(self) -> None:
        if self.text_encoder is not None:
            return
        from diffusers import AutoencoderKLWan
        from transformers import AutoTokenizer, UMT5EncoderModel

        self.tokenizer = AutoTokenizer.from_pretrained(self.path / "tokenizer")
        self.text_encoder = UMT5EncoderModel.from_pretrained(self.path / "text_encoder", torch_dtype=self.dtype).to(self.device).eval()
        self.vae = AutoencoderKLWan.from_pretrained(self.path / "vae", torch_dtype=torch.float32).to(self.device).eval()

    def load(self, expert: str) -> None:
        if expert not in self.manifest["experts"]:
            raise EngineError("bad_input", f"model '{self.manifest['id']}' has experts {self.manifest['experts']}, not '{expert}'")
        self.ensure_shared()
        if expert in self.experts:
            return
        try:
            self.experts[expert] = self._load_transformer(expert).to(self.device).eval()
        except torch.cuda.OutOfMemoryError as error:
            raise EngineError("out_of_memory", f"loading {self.manifest['id']}/{expert}: {error}") from None

    def unload(self, expert: str) -> None:
        module = self.experts.pop(expert, None)
        del module
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

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
