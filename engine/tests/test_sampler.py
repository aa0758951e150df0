import math

import pytest
import torch

from turboserve_engine.sampler import expert_plan, initial_noise, rcm_times, sampler_update

# Golden RF time tables from the reference (5 decimals).
T2V = {4: [0.98765, 0.93378, 0.85290, 0.60898, 0.0], 3: [0.98765, 0.93378, 0.85290, 0.0],
       2: [0.98765, 0.93378, 0.0], 1: [0.98765, 0.0]}


@pytest.mark.parametrize("steps", [1, 2, 3, 4])
def test_t2v_times_match_reference(steps):
    assert rcm_times(steps, 80.0) == pytest.approx(T2V[steps], abs=5e-6)


@pytest.mark.parametrize("steps", [1, 2, 3, 4])
def test_i2v_times_only_first_depends_on_sigma_max(steps):
    times = rcm_times(steps, 200.0)
    assert times[0] == pytest.approx(0.99502, abs=5e-6)
    assert times[1:] == pytest.approx(T2V[steps][1:], abs=5e-6)
    assert rcm_times(steps, 1600.0)[0] == pytest.approx(0.99938, abs=5e-6)


def test_steps_out_of_range_are_refused():
    with pytest.raises(ValueError):
        rcm_times(5, 80.0)


@pytest.mark.parametrize("steps,high,low", [(4, 2, 2), (3, 2, 1), (2, 2, 0), (1, 1, 0)])
def test_expert_split_at_boundary(steps, high, low):
    plan = expert_plan(rcm_times(steps, 200.0), 0.9, ["high", "low"])
    assert plan.count("high") == high and plan.count("low") == low
    assert plan == sorted(plan)  # all high-noise steps first ("high" < "low")


def test_ode_step_is_euler_by_hand():
    x = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    v = torch.tensor([[0.5, 0.25]], dtype=torch.float64)
    t_cur, t_next = 0.93378, 0.85290
    out = sampler_update(x, v, t_cur, t_next, "ode", torch.Generator().manual_seed(0))
    assert out[0].tolist() == pytest.approx([1.0 - 0.08088 * 0.5, -2.0 - 0.08088 * 0.25], abs=1e-9)


def test_sde_step_by_hand_with_the_jobs_generator():
    x = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    v = torch.tensor([[0.5, 0.25]], dtype=torch.float64)
    t_cur, t_next = 0.98765, 0.60898
    noise = torch.randn((1, 2), generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    x0 = [1.0 - t_cur * 0.5, -2.0 - t_cur * 0.25]
    expected = [(1 - t_next) * x0[i] + t_next * noise[0, i].item() for i in range(2)]
    out = sampler_update(x, v, t_cur, t_next, "sde", torch.Generator().manual_seed(3))
    assert out[0].tolist() == pytest.approx(expected, abs=1e-12)


def test_initial_noise_is_scaled_float64_from_the_generator():
    x = initial_noise((2, 3), 0.5, torch.Generator().manual_seed(1))
    reference = torch.randn((2, 3), generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 0.5
    assert x.dtype == torch.float64 and torch.equal(x, reference)
    assert math.isclose(rcm_times(1, 80.0)[0], 80.0 / 81.0, rel_tol=1e-12)  # sigma/(1+sigma)
