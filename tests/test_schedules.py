"""difflearn.schedules / betas / timesteps against closed forms and independent computations."""

import math

import numpy as np
import pytest
import torch

from difflearn import (
    NoiseScheduleVP,
    alphas_cumprod_from_betas,
    beta_schedule,
    betas_from_alphas_cumprod,
    discrete_timesteps,
    log_snr,
    rescale_zero_terminal_snr,
    snr,
    time_steps,
)
from difflearn.schedules import interpolate

F64 = torch.float64


def test_linear_vp_closed_form():
    b0, b1 = 0.1, 20.0
    ns = NoiseScheduleVP("linear", continuous_beta_0=b0, continuous_beta_1=b1)
    t = torch.linspace(0, 1, 1001, dtype=F64)
    # log alpha_t = -1/2 int_0^t beta(s) ds, integrated numerically (trapezoid on a fine grid)
    for tk in [0.05, 0.3, 0.77, 1.0]:
        s = torch.linspace(0, tk, 200_001, dtype=F64)
        integral = torch.trapezoid(b0 + s * (b1 - b0), s)
        assert float(ns.marginal_log_mean_coeff(torch.tensor(tk, dtype=F64))) == pytest.approx(-0.5 * float(integral), rel=1e-10)
    assert torch.allclose(ns.marginal_alpha(t) ** 2 + ns.marginal_std(t) ** 2, torch.ones_like(t), atol=1e-15)


def test_cosine_formula():
    ns = NoiseScheduleVP("cosine")
    t = torch.linspace(0, ns.T, 501, dtype=F64)
    s = 0.008
    ab = np.cos((t.numpy() + s) / (1 + s) * math.pi / 2) ** 2 / math.cos(s / (1 + s) * math.pi / 2) ** 2
    np.testing.assert_allclose(ns.marginal_alpha(t).numpy() ** 2, ab, rtol=1e-12)


@pytest.mark.parametrize("schedule", ["linear", "cosine", "discrete"])
def test_inverse_lambda_roundtrip(schedule):
    kw = {"betas": beta_schedule("linear", 1000), "dtype": F64} if schedule == "discrete" else {}
    ns = NoiseScheduleVP(schedule, **kw)
    t = torch.linspace(1e-3, ns.T, 20_001, dtype=F64)
    assert (ns.inverse_lambda(ns.marginal_lambda(t)) - t).abs().max() < 1e-9


def test_discrete_interpolation_hits_table():
    betas = beta_schedule("linear", 1000)
    ab = torch.cumprod(1 - betas, 0)  # independent of alphas_cumprod_from_betas
    for ns in [NoiseScheduleVP("discrete", betas=betas, dtype=F64),
               NoiseScheduleVP("discrete", alphas_cumprod=ab, dtype=F64)]:
        t_grid = ns.t_array.reshape(-1)
        assert torch.allclose(t_grid, torch.arange(1, 1001, dtype=F64) / 1000, atol=1e-7)
        assert torch.allclose(ns.marginal_alpha(t_grid) ** 2, ab, rtol=1e-12)
        # halfway between grid points log alpha is the average of its neighbours
        mid = (t_grid[:-1] + t_grid[1:]) / 2
        la = 0.5 * torch.log(ab)
        assert torch.allclose(ns.marginal_log_mean_coeff(mid), (la[:-1] + la[1:]) / 2, rtol=1e-12)


def test_interpolate_matches_numpy_inside_and_extrapolates_linearly():
    xp = torch.tensor([0.1, 0.4, 0.5, 0.9], dtype=F64)
    fp = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=F64)
    x = torch.linspace(0.1, 0.9, 97, dtype=F64)
    np.testing.assert_allclose(interpolate(x, xp, fp).numpy(), np.interp(x.numpy(), xp.numpy(), fp.numpy()), atol=1e-14)
    left = interpolate(torch.tensor([0.0], dtype=F64), xp, fp)
    assert float(left) == pytest.approx(1.0 - 0.1 * (-3.0 / 0.3))
    right = interpolate(torch.tensor([1.0], dtype=F64), xp, fp)
    assert float(right) == pytest.approx(3.0 + 0.1 * (2.5 / 0.4))


def test_cosine_table_is_clipped_like_official():
    betas = beta_schedule("cosine", 1000)
    ab = torch.cumprod(1 - betas, 0)
    lam = 0.5 * torch.log(ab / (1 - ab))
    ns = NoiseScheduleVP("discrete", betas=betas, dtype=F64)
    assert ns.total_N == int((lam >= -5.1).sum())
    assert ns.total_N < 1000
    linear = NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000))
    assert linear.total_N == 1000


def test_named_beta_schedules():
    b = beta_schedule("linear", 1000)
    assert b[0] == pytest.approx(1e-4) and b[-1] == pytest.approx(0.02)
    sl = beta_schedule("scaled_linear", 1000)
    assert sl[0] == pytest.approx(0.00085) and sl[-1] == pytest.approx(0.012)
    assert torch.allclose(sl.sqrt().diff(), sl.sqrt().diff()[0].expand(999), rtol=1e-9)
    c = beta_schedule("cosine", 1000)
    f = lambda n: math.cos((n / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2
    assert float(torch.prod(1 - c[:500])) == pytest.approx(f(500) / f(0), rel=1e-10)
    assert float(c.max()) <= 0.999


def test_conversions_roundtrip_and_snr():
    b = beta_schedule("linear", 1000)
    ab = alphas_cumprod_from_betas(b)
    assert torch.allclose(betas_from_alphas_cumprod(ab), b, rtol=1e-10)
    assert torch.allclose(log_snr(ab), torch.log(snr(ab)), rtol=1e-12)
    ns = NoiseScheduleVP("discrete", betas=b, dtype=F64)
    assert torch.allclose(2 * ns.marginal_lambda(ns.t_array.reshape(-1)), log_snr(ab), rtol=1e-9)


def test_zero_terminal_snr():
    for name in ["linear", "scaled_linear"]:
        b = beta_schedule(name, 1000)
        ab_old = alphas_cumprod_from_betas(b)
        ab_new = alphas_cumprod_from_betas(rescale_zero_terminal_snr(b))
        assert snr(ab_new)[-1] == 0
        assert ab_new[0] == pytest.approx(float(ab_old[0]), rel=1e-12)
        # sqrt(alphas_cumprod) is an affine function of the old one
        a, c = np.polyfit(ab_old.sqrt().numpy(), ab_new.sqrt().numpy(), 1)
        np.testing.assert_allclose(a * ab_old.sqrt().numpy() + c, ab_new.sqrt().numpy(), atol=1e-12)


def test_time_steps_match_definitions():
    ns = NoiseScheduleVP("linear")
    t = time_steps(ns, "time_uniform", 1.0, 1e-3, 7, dtype=F64)
    assert torch.allclose(t, torch.tensor(np.linspace(1.0, 1e-3, 8)))
    t = time_steps(ns, "time_quadratic", 1.0, 1e-3, 7, dtype=F64)
    assert torch.allclose(t, torch.tensor(np.linspace(1.0, 1e-3**0.5, 8) ** 2))
    lam = ns.marginal_lambda(time_steps(ns, "logSNR", 1.0, 1e-3, 7, dtype=F64))
    assert torch.allclose(lam.diff(), lam.diff().mean().expand(7), rtol=1e-9)
    t = time_steps(ns, "karras", 1.0, 1e-3, 7, dtype=F64, rho=7.0)
    sig = torch.exp(-ns.marginal_lambda(t)) ** (1 / 7)
    assert torch.allclose(sig.diff(), sig.diff().mean().expand(7), rtol=1e-8)


def test_discrete_timesteps_match_diffusers():
    from diffusers import DDIMScheduler

    for spacing in ["leading", "trailing", "linspace"]:
        for steps in [1, 7, 10, 50, 999]:
            sch = DDIMScheduler(num_train_timesteps=1000, timestep_spacing=spacing, steps_offset=1 if spacing == "leading" else 0)
            sch.set_timesteps(steps)
            ours = discrete_timesteps(1000, steps, spacing, steps_offset=1 if spacing == "leading" else 0)
            np.testing.assert_array_equal(ours, sch.timesteps.numpy())


def test_float32_and_device_agnostic():
    ns = NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000))
    t32 = torch.linspace(1e-3, 1, 11)
    t64 = t32.double()
    assert ns.marginal_lambda(t32).dtype == torch.float32
    assert torch.allclose(ns.marginal_lambda(t32).double(), ns.marginal_lambda(t64), rtol=1e-4)  # float32 cancellation in 1 - alpha^2 near t = 0
    assert ns.marginal_alpha(t32.reshape(11)).shape == (11,)


@pytest.mark.parametrize("kwargs, match", [
    ({"schedule": "quadratic"}, "schedule must be one of"),
    ({"schedule": "discrete"}, "needs betas or alphas_cumprod"),
    ({"schedule": "discrete", "betas": torch.tensor([0.1, 1.5])}, r"betas\[1\] = 1.5"),
    ({"schedule": "discrete", "betas": torch.tensor([0.0, 0.5])}, r"open interval \(0, 1\)"),
    ({"schedule": "discrete", "alphas_cumprod": torch.tensor([0.9, 0.95, 0.5])}, "strictly decreasing"),
    ({"schedule": "linear", "continuous_beta_0": 5.0, "continuous_beta_1": 1.0}, "continuous_beta_0"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        NoiseScheduleVP(**kwargs)


def test_bad_grid_input():
    ns = NoiseScheduleVP("linear")
    with pytest.raises(ValueError, match="skip_type must be one of"):
        time_steps(ns, "uniform", 1.0, 1e-3, 10)
    with pytest.raises(ValueError, match="t_0 must be smaller than t_T"):
        time_steps(ns, "logSNR", 1e-3, 1.0, 10)
    with pytest.raises(ValueError, match="N .* must be an int >= 1"):
        time_steps(ns, "logSNR", 1.0, 1e-3, 0)
    with pytest.raises(ValueError, match="spacing must be one of"):
        discrete_timesteps(1000, 10, "middle")
    with pytest.raises(ValueError, match="name must be one of"):
        beta_schedule("sigmoid")
    with pytest.raises(ValueError, match=r"t must lie in \[0.001, 1\]"):
        ns.check_t(torch.tensor([0.5, 1.2]), eps=1e-3)
