"""The verbs of the engine protocol (docs/engine-protocol.md), on top of `ModelFamily` and `JobState`.

Single-threaded: the server calls one verb at a time. Every verb validates before it changes anything, and commits
its changes only once all of its work succeeded, so a coded error leaves all job state as it was. Errors name the
jobs they concern by the rule in `errors.py`; device out-of-memory, real or a TEST-ONLY fault (`faults.py`), takes
the one mapping `errors.device_work`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from . import ENGINE_VERSION, PROTOCOL_VERSION
from .errors import BatchShape, EngineError, device_work, is_out_of_memory, out_of_memory
from .faults import TestFaults
from .jobs import JobState
from .models import ModelFamily, read_manifests
from .sampler import expert_plan, initial_noise, rcm_times, sampler_update
from .telemetry import GpuTelemetry
from .tiny import ensure_tiny
from .validation import KERNEL_MODULES, kernel_available, validate_batch

MAX_TEXT_TOKENS = 512


class Engine:
    def __init__(self, models_dir: Path, work_dir: Path, device: str = "auto", threads: int | None = None,
                 faults: TestFaults | None = None, environ=os.environ):
        self.models_dir = models_dir
        self.work_dir = work_dir
        self.work_dir.mkdir(parents=True, exist_ok=True)
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self.dtype = torch.bfloat16 if self.device.type == "cuda" else torch.float32
        if threads:
            torch.set_num_threads(threads)
        self.families: dict[str, ModelFamily] = {}
        self.jobs: dict[str, JobState] = {}
        self.calls: dict[str, dict[str, float]] = {}
        self.faults = faults or TestFaults()
        # TEST-ONLY: jobs whose prompt carries `TURBOSERVE_ENGINE_TEST_CRASH_ON_PROMPT` (empty otherwise).
        self.poisoned: set[str] = set()
        self.telemetry = GpuTelemetry(self.device, environ)

    # MARK: - helpers

    def free_memory(self) -> tuple[int, int]:
        if self.device.type == "cuda":
            free, total = torch.cuda.mem_get_info(self.device)
            return int(free), int(total)
        import psutil

        memory = psutil.virtual_memory()
        return int(memory.available), int(memory.total)

    def family(self, model: str) -> ModelFamily:
        if model not in self.families:
            manifests = read_manifests(self.models_dir)
            if model not in manifests:
                raise EngineError("model_missing", f"model '{model}' is not installed on this engine; installed: {', '.join(sorted(manifests))}")
            self.families[model] = ModelFamily(manifests[model], self.device, self.dtype)
        return self.families[model]

    def resident(self) -> list[dict]:
        return [{"model": m, "expert": e} for m, f in sorted(self.families.items()) for e in f.resident_experts]

    def job(self, job_id: str) -> JobState:
        if job_id not in self.jobs:
            raise EngineError("unknown_job", f"job '{job_id}' is not admitted (or was already released)", [job_id])
        return self.jobs[job_id]

    # MARK: - verbs

    def hello(self, args: dict) -> dict:
        if args.get("protocol") != PROTOCOL_VERSION:
            raise EngineError("protocol_mismatch", f"this engine speaks protocol {PROTOCOL_VERSION}, not {args.get('protocol')}")
        free, total = self.free_memory()
        name = torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else "cpu"
        models = [
            {"id": m["id"], "task": m["task"], "experts": m["experts"], "boundary": m.get("boundary"),
             "source": m.get("source", "diffusers"), "path": m["path"]}
            for m in read_manifests(self.models_dir).values()
        ]
        return {
            "protocol": PROTOCOL_VERSION, "engine_version": ENGINE_VERSION, "pid": os.getpid(),
            "device": self.device.type if self.device.index is None else f"{self.device.type}:{self.device.index}",
            "device_name": name, "total_memory_bytes": total, "free_memory_bytes": free,
            "threads": torch.get_num_threads(), "kernels": {k: kernel_available(k) for k in KERNEL_MODULES},
            "weight_transfers": "streamed", "models": models, "test_faults": self.faults.describe(),
            "gpu_telemetry": self.telemetry.read(),
        }

    def ensure_tiny(self, args: dict) -> dict:
        return ensure_tiny(self.models_dir)

    def load(self, args: dict) -> dict:
        model, expert = _require(args, "model", str), args.get("expert", "main")
        family = self.family(model)
        try:
            streaming = family.load(expert)
        except Exception as error:  # noqa: BLE001 — only device OOM is mapped here; the rest passes unchanged
            if isinstance(error, EngineError) or not is_out_of_memory(error):
                raise
            raise out_of_memory(f"loading {model}/{expert}", "unload another expert first (or lower model_cache.max_resident)", error) from None
        return {"resident": self.resident(), "free_memory_bytes": self.free_memory()[0], "streaming": streaming}

    def unload(self, args: dict) -> dict:
        model = _require(args, "model", str)
        if model in self.families:
            self.families[model].unload(args.get("expert", "main"))
        return {"resident": self.resident(), "free_memory_bytes": self.free_memory()[0]}

    def warmup(self, args: dict) -> dict:
        family = self.family(_require(args, "model", str))
        family.ensure_shared()
        for expert in family.resident_experts:
            transformer = family.transformer(expert)
            config = transformer.config
            x = torch.zeros(1, config.in_channels, 1, 2, 2, device=self.device, dtype=self.dtype)
            text = torch.zeros(1, 4, config.text_dim, device=self.device, dtype=self.dtype)
            with torch.inference_mode():
                transformer(hidden_states=x, timestep=torch.tensor([500.0], device=self.device), encoder_hidden_states=text, return_dict=False)
        return {"warmed": family.resident_experts}

    def admit(self, args: dict) -> dict:
        specs = _require(args, "jobs", list)
        checked = validate_batch(specs, set(self.jobs), read_manifests(self.models_dir))
        admitted: dict[str, JobState] = {}
        replies = []
        if checked:
            first = checked[0][0]
            shape = BatchShape("admit", first["model"], "text_encoder", first["width"], first["height"], first["frames"], len(checked))
            with device_work(shape, [first["job_id"]] if len(checked) == 1 else None):
                self.faults.check([(spec["job_id"], spec["frames"]) for spec, _ in checked])
        # Text-encode all prompts of a model in one batch.
        by_model: dict[str, list[int]] = {}
        for i, (spec, _) in enumerate(checked):
            by_model.setdefault(spec["model"], []).append(i)
        texts: dict[int, torch.Tensor] = {}
        for model, indices in by_model.items():
            family = self.family(model)
            first = checked[indices[0]][0]
            shape = BatchShape("admit", model, "text_encoder", first["width"], first["height"], first["frames"], len(indices))
            ids = [checked[i][0]["job_id"] for i in indices]
            with device_work(shape, ids if len(ids) == 1 else None):
                family.ensure_shared()
                embeddings = self._encode_text(family, [checked[i][0]["prompt"] for i in indices])
            for row, i in enumerate(indices):
                texts[i] = embeddings[row:row + 1]
        for i, (spec, image) in enumerate(checked):
            family = self.family(spec["model"])
            width, height = spec["width"], spec["height"]
            condition = None
            if family.task == "i2v":
                # The job carries the size it produces; with adaptive resolution the control plane derived it from
                # the image (FrameSize.following in TurboServeDomain: the rule's one home).
                with device_work(BatchShape("admit", spec["model"], "vae", width, height, spec["frames"], 1), [spec["job_id"]]):
                    condition = self._image_condition(family, image, width, height, spec["frames"])
            times = rcm_times(spec["steps"], float(spec.get("sigma_max", 200.0 if family.task == "i2v" else 80.0)))
            experts = expert_plan(times, float(spec.get("boundary", 0.9)), family.manifest["experts"])
            generator = torch.Generator(device="cpu").manual_seed(int(spec["seed"]))
            latent = (1, 16, 1 + (spec["frames"] - 1) // 4, height // 8, width // 8)
            admitted[spec["job_id"]] = JobState(
                job_id=spec["job_id"], model=spec["model"], width=width, height=height, frames=spec["frames"],
                fps=int(spec.get("fps", 16)), steps=spec["steps"], times=times, experts=experts,
                sampler=spec.get("sampler", "sde"), generator=generator, x=initial_noise(latent, times[0], generator),
                text=texts[i], condition=condition,
            )
            replies.append({"job_id": spec["job_id"], "width": width, "height": height, "experts": experts, "times": times})
        self.jobs.update(admitted)  # all or nothing
        self.poisoned.update(spec["job_id"] for spec, _ in checked if self.faults.poisons(spec["prompt"]))
        return {"jobs": replies}

    def step(self, args: dict) -> dict:
        entries = _require(args, "jobs", list)
        if not entries:
            return {"jobs": []}
        model = _require(args, "model", str)
        expert = args.get("expert", "main")
        jobs = []
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("job_id"), str):
                raise EngineError("bad_request", f"jobs[{index}] must be an object with a string 'job_id' and an integer 'index'")
            job = self.job(entry["job_id"])
            if any(other is job for other in jobs):
                raise EngineError("bad_request", f"job '{job.job_id}' appears twice in one step; send each job once", [job.job_id])
            if job.model != model or entry.get("index") != job.index or job.finished or job.experts[job.index] != expert:
                raise EngineError("step_mismatch", f"job '{job.job_id}' is at step {job.index} of {job.steps} on {job.model}/{job.experts[job.index] if not job.finished else 'done'}; asked for step {entry.get('index')} on {model}/{expert}", [job.job_id])
            if jobs and job.latent_shape != jobs[0].latent_shape:
                raise EngineError("step_mismatch", f"job '{job.job_id}' has latent shape {job.latent_shape}, not {jobs[0].latent_shape}; a batch must share one shape", [job.job_id])
            jobs.append(job)
        family = self.family(model)
        transformer = family.transformer(expert)
        if transformer is None:
            raise EngineError("not_loaded", f"{model}/{expert} is not loaded; send load first")
        shape = BatchShape("step", model, expert, jobs[0].width, jobs[0].height, jobs[0].frames, len(jobs))
        self.faults.crash_if_poisoned([job.job_id for job in jobs], self.poisoned)
        with device_work(shape, [jobs[0].job_id] if len(jobs) == 1 else None):
            self.faults.check([(job.job_id, job.frames) for job in jobs])
            x = torch.cat([job.x for job in jobs]).to(self.device, self.dtype)
            if jobs[0].condition is not None:
                x = torch.cat([x, torch.cat([job.condition for job in jobs]).to(self.device, self.dtype)], dim=1)
            timesteps = torch.tensor([job.times[job.index] * 1000.0 for job in jobs], device=self.device, dtype=torch.float32)
            text = torch.cat([job.text for job in jobs]).to(self.device, self.dtype)
            with torch.inference_mode():
                velocity = transformer(hidden_states=x, timestep=timesteps, encoder_hidden_states=text, return_dict=False)[0]
            velocity = velocity.to("cpu", torch.float64)
        for row, job in enumerate(jobs):
            t_cur, t_next = job.times[job.index], job.times[job.index + 1]
            job.x = sampler_update(job.x, velocity[row:row + 1], t_cur, t_next, job.sampler, job.generator)
            job.calls[expert] = job.calls.get(expert, 0) + 1
            job.index += 1
        return {"jobs": [{"job_id": job.job_id, "completed": job.index} for job in jobs]}

    def decode(self, args: dict) -> dict:
        ids = _job_ids(args)
        jobs = [self.job(job_id) for job_id in ids]
        for job in jobs:
            if not job.finished:
                raise EngineError("step_mismatch", f"job '{job.job_id}' has {job.steps - job.index} steps left; decode needs all done", [job.job_id])
        if jobs:
            first = jobs[0]
            shape = BatchShape("decode", first.model, "vae", first.width, first.height, first.frames, len(jobs))
            with device_work(shape, [first.job_id] if len(jobs) == 1 else None):
                self.faults.check([(job.job_id, job.frames) for job in jobs])
        decoded = []
        for job in jobs:  # one at a time: a failure is this job's own
            family = self.family(job.model)
            shape = BatchShape("decode", job.model, "vae", job.width, job.height, job.frames, 1)
            with device_work(shape, [job.job_id]):
                family.ensure_shared()
                decoded.append(self._decode_frames(family, job))
        replies = []
        for job, frames in zip(jobs, decoded):  # commit: only once every job decoded
            path = self.work_dir / f"{job.job_id}.rgb"
            with device_work(BatchShape("decode", job.model, "vae", job.width, job.height, job.frames, 1), [job.job_id]):
                try:
                    path.write_bytes(frames.tobytes())
                except OSError:
                    path.unlink(missing_ok=True)  # never leave a truncated frames file behind
                    raise
            replies.append({"job_id": job.job_id, "frames_path": str(path), "width": job.width, "height": job.height,
                            "frames": int(frames.shape[0]), "fps": job.fps, "pixel_format": "rgb24",
                            "expert_calls": job.calls})
        for job in jobs:
            del self.jobs[job.job_id]
        return {"jobs": replies, "free_memory_bytes": self.free_memory()[0]}

    def release(self, args: dict) -> dict:
        ids = _job_ids(args, allow_repeats=True)
        released = [job_id for job_id in ids if self.jobs.pop(job_id, None) is not None]
        return {"released": released}

    def stats(self, args: dict) -> dict:
        import psutil

        free, total = self.free_memory()
        return {"free_memory_bytes": free, "total_memory_bytes": total, "rss_bytes": psutil.Process().memory_info().rss,
                "resident": self.resident(), "jobs": sorted(self.jobs), "calls": self.calls,
                "gpu_telemetry": self.telemetry.read()}

    # MARK: - stages

    def _encode_text(self, family: ModelFamily, prompts: list[str]) -> torch.Tensor:
        """UMT5 states `[B, MAX_TEXT_TOKENS, dim]`, zero past each prompt's length. The encoder runs only over the
        batch's longest prompt: pad tokens are masked out as keys and their states zeroed, so the real tokens'
        states are those of a full-length encoding (relative position bias depends on distance only), at a
        fraction of the cost (attention over 512 positions was most of an admit for short prompts)."""
        tokens = family.tokenizer(prompts, padding="longest", max_length=MAX_TEXT_TOKENS, truncation=True,
                                  add_special_tokens=True, return_attention_mask=True, return_tensors="pt")
        ids, mask = tokens.input_ids.to(self.device), tokens.attention_mask.to(self.device)
        with torch.inference_mode():
            states = family.text_encoder(ids, mask).last_hidden_state
        states = (states * mask.unsqueeze(-1).to(states.dtype)).to("cpu")
        return torch.nn.functional.pad(states, (0, 0, 0, MAX_TEXT_TOKENS - states.shape[1]))

    def _latent_stats(self, family: ModelFamily) -> tuple[torch.Tensor, torch.Tensor]:
        config = family.vae.config
        mean = torch.tensor(config.latents_mean, dtype=torch.float32).view(1, -1, 1, 1, 1)
        std = torch.tensor(config.latents_std, dtype=torch.float32).view(1, -1, 1, 1, 1)
        return mean, std

    def _image_condition(self, family: ModelFamily, image, width: int, height: int, frames: int) -> torch.Tensor:
        """y = [mask (4 ch, latent frame 0 marked), VAE latents of (image, F−1 zero frames)] → 20 channels."""
        image = image.convert("RGB").resize((width, height))
        pixels = torch.from_numpy(np.asarray(image, dtype=np.float32) / 127.5 - 1.0).permute(2, 0, 1)
        clip = torch.zeros(1, 3, frames, height, width)
        clip[0, :, 0] = pixels
        with torch.inference_mode():
            latents = family.vae.encode(clip.to(self.device)).latent_dist.mode().to("cpu", torch.float32)
        mean, std = self._latent_stats(family)
        latents = (latents - mean) / std
        t, h, w = latents.shape[2], height // 8, width // 8
        mask = torch.zeros(1, frames, h, w)
        mask[:, 0] = 1
        mask = torch.cat([mask[:, :1].repeat_interleave(4, dim=1), mask[:, 1:]], dim=1)
        mask = mask.view(1, t, 4, h, w).transpose(1, 2)
        return torch.cat([mask, latents], dim=1)

    def _decode_frames(self, family: ModelFamily, job: JobState) -> np.ndarray:
        mean, std = self._latent_stats(family)
        z = job.x.to(torch.float32) * std + mean
        with torch.inference_mode():
            video = family.vae.decode(z.to(self.device), return_dict=False)[0]
        video = ((video[0].clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)  # [3, F, H, W]
        return video.permute(1, 2, 3, 0).contiguous().cpu().numpy()  # [F, H, W, 3]


def _require(args: dict, key: str, kind: type):
    if not isinstance(args, dict) or key not in args:
        raise EngineError("bad_request", f"missing field '{key}'")
    value = args[key]
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise EngineError("bad_request", f"field '{key}' must be {kind.__name__}; got {type(value).__name__}")
    return value


def _job_ids(args: dict, allow_repeats: bool = False) -> list[str]:
    ids = _require(args, "jobs", list)
    for index, job_id in enumerate(ids):
        if not isinstance(job_id, str):
            raise EngineError("bad_request", f"jobs[{index}] must be a job id (a string); got {type(job_id).__name__}")
        if not allow_repeats and ids.count(job_id) > 1:
            raise EngineError("bad_request", f"job '{job_id}' appears twice; send each job once", [job_id])
    return ids


