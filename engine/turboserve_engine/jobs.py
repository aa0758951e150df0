"""Per-job engine state: everything needed between steps, including the job's own random generator, whose state
travels with the job so SDE noise is the same whether it runs alone or batched, early or after preemption."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class JobState:
    job_id: str
    model: str
    width: int
    height: int
    frames: int
    fps: int
    steps: int
    times: list[float]
    experts: list[str]
    sampler: str
    generator: torch.Generator
    x: torch.Tensor  # float64 latents [1, 16, T, H/8, W/8]
    text: torch.Tensor  # [1, L, text_dim], zero past the prompt's length
    condition: torch.Tensor | None = None  # I2V: [1, 20, T, H/8, W/8] = [mask, image latents]
    index: int = 0  # next step to run
    calls: dict[str, int] = field(default_factory=dict)  # expert → forwards this job took part in

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape)

    @property
    def finished(self) -> bool:
        return self.index >= self.steps
