"""TurboDiffusion's rCM sampler, ported from its published description (see shared reference).

Times are built in TrigFlow time and converted to rectified-flow (RF) time:
    trig = [atan(sigma_max), 1.5, 1.4, 1.0][:steps] + [0]
    t    = sin(trig) / (sin(trig) + cos(trig))
The network predicts the velocity v = eps - x0, so x0_hat = x - t_cur * v.
"""

from __future__ import annotations

import math

import torch

MID_TRIG = (1.5, 1.4, 1.0)


def rcm_times(steps: int, sigma_max: float) -> list[float]:
    """RF times t_0 > t_1 > ... > t_steps = 0 for 1..4 steps; only t_0 depends on sigma_max."""
    if steps not in (1, 2, 3, 4):
        raise ValueError(f"steps must be 1..4, got {steps}")
    trig = [math.atan(sigma_max), *MID_TRIG][:steps] + [0.0]
    return [math.sin(a) / (math.sin(a) + math.cos(a)) for a in trig]


def expert_plan(times: list[float], boundary: float, experts: list[str]) -> list[str]:
    """The expert evaluating each step: high-noise while t_cur >= boundary, then low-noise."""
    steps = len(times) - 1
    if experts != ["high", "low"]:
        return ["main"] * steps
    return ["high" if times[i] >= boundary else "low" for i in range(steps)]


def initial_noise(shape: tuple[int, ...], t0: float, generator: torch.Generator) -> torch.Tensor:
    """x = randn(shape) * t_0 in float64, drawn from the job's own generator."""
    return torch.randn(shape, generator=generator, dtype=torch.float64) * t0


def sampler_update(
    x: torch.Tensor, v: torch.Tensor, t_cur: float, t_next: float, sampler: str, generator: torch.Generator
) -> torch.Tensor:
    """One rCM update of one sample (float64 state, any-dtype velocity).

    sde: x <- (1 - t_next) * (x - t_cur * v) + t_next * randn(generator)   (fresh noise from the job's generator)
    ode: x <- x - (t_cur - t_next) * v                                      (Euler)
    """
    v = v.to(torch.float64)
    if sampler == "ode":
        return x - (t_cur - t_next) * v
    x0 = x - t_cur * v
    noise = torch.randn(x.shape, generator=generator, dtype=torch.float64)
    return (1.0 - t_next) * x0 + t_next * noise
