"""DEIS and iPNDM against independent references.

- diffusers' `DEISMultistepScheduler` (a test-only dependency) implements the log-rho
  variant: our `deis(basis='logrho')` on the grid of its timesteps, ending at the sigma
  of training step 0 (t = 1/1000), with its `lower_order_final` (below 15 steps only);
- k-diffusion's `sample_lms` integrates the Lagrange polynomial in sigma~ exactly: on an
  even grid in sigma~ that is iPNDM's fixed Adams-Bashforth weights, and on any grid it
  is DEIS with `basis='rho'`;
- the measured order on the exact mixture, against scipy's solve of the ODE.
"""

import math

import pytest
import torch

from difflearn import sample
from difflearn.data import GaussianMixture
from difflearn.samplers import ddim
from difflearn.samplers.deis import deis, ipndm
from difflearn.schedules import NoiseScheduleVP, time_steps

GM = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2], [0.5, 0.3, 0.2])
B = 16


def x_T(n=B, seed=0):
    return torch.randn(n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("steps", [6, 20])
def test_deis_logrho_matches_diffusers(order, steps):
    diffusers = pytest.importorskip("diffusers")
    sched = diffusers.DEISMultistepScheduler(solver_order=order)
    sched.set_timesteps(steps)
    ns = NoiseScheduleVP("discrete", alphas_cumprod=sched.alphas_cumprod.double(), dtype=torch.float64)
    eps = GM.noise_fn(ns)
    x = x_T().float()
    for tau in sched.timesteps:
        t = (tau.double() + 1) / 1000
        x = sched.step(eps(x.double(), t.reshape(1)).float(), tau, x).prev_sample
    # their last sigma is that of training step 0: t = 1/1000
    grid = torch.cat([(sched.timesteps.double() + 1) / 1000, torch.tensor([1e-3], dtype=torch.float64)])
    ours = deis(eps, x_T(), ns, grid, order=order, basis="logrho", lower_order_final=steps < 15)
    torch.testing.assert_close(ours, x.double(), atol=2e-4, rtol=0)


NS = NoiseScheduleVP("linear")
EPS = GM.noise_fn(NS)


def _kdiffusion():
    """k-diffusion's sampling module and its denoiser D(x~, sigma~) = E[x_0 | x~] of the same
    mixture (Tweedie's formula, not our noise prediction)."""
    from tests.test_samplers_kdiffusion import GM as GM_K
    from tests.test_samplers_kdiffusion import NS as NS_K
    from tests.test_samplers_kdiffusion import K, denoiser

    assert GM_K.means.equal(GM.means) and NS_K.schedule == NS.schedule
    return K, denoiser


@pytest.mark.parametrize("order", [2, 3, 4])
def test_ipndm_is_lms_on_an_even_sigma_grid(order):
    K, denoiser = _kdiffusion()
    s_max, s_min = math.exp(-float(NS.marginal_lambda(torch.tensor(1.0, dtype=torch.float64)))), 0.05
    sigmas = torch.linspace(s_max, s_min, 13, dtype=torch.float64)
    t = NS.inverse_lambda(-torch.log(sigmas))
    m = NS.marginals(t)
    ref = K.sample_lms(denoiser, x_T() / m.alpha[0], sigmas, order=order, disable=True) * m.alpha[-1]
    ours = ipndm(EPS, x_T(), NS, t, order=order)
    torch.testing.assert_close(ours, ref, rtol=1e-9, atol=1e-9)


def test_deis_rho_is_lms_on_any_grid():
    K, denoiser = _kdiffusion()
    t = time_steps(NS, "time_quadratic", 1.0, 1e-3, 9, dtype=torch.float64)
    sigmas = torch.as_tensor(NS.marginals(t).sigma_ve)
    m = NS.marginals(t)
    ref = K.sample_lms(denoiser, x_T() / m.alpha[0], sigmas, order=4, disable=True) * m.alpha[-1]
    ours = deis(EPS, x_T(), NS, t, order=4, basis="rho", lower_order_final=False)
    torch.testing.assert_close(ours, ref, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("basis", ["t", "rho", "logrho"])
def test_order_one_is_ddim(basis):
    t = time_steps(NS, "logSNR", 1.0, 1e-3, 7, dtype=torch.float64)
    torch.testing.assert_close(deis(EPS, x_T(), NS, t, order=1, basis=basis), ddim(EPS, x_T(), NS, t),
                               rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ipndm(EPS, x_T(), NS, t, order=1), ddim(EPS, x_T(), NS, t), rtol=1e-12, atol=1e-12)


@pytest.mark.slow
def test_deis_t_measured_order():
    """tAB-DEIS with p predictions is order p: doubling the steps divides the error by 2^p."""
    x = x_T(32)
    exact = GM.pf_ode_solve(x, 1.0, 1e-3, NS)

    def err(n, order):
        out = sample(EPS, x, NS, "deis", steps=n, skip_type="logSNR", order=order, basis="t")
        return (out - exact).norm(dim=1).mean().item()

    for order in (2, 3, 4):
        slope = math.log2(err(100, order) / err(200, order))
        # order 4 is still steepening at 200 steps (3.62 here, 3.79 from 160 to 320)
        assert abs(slope - order) < 0.3 if order < 4 else 3.5 < slope < 4.3, (order, slope)


def test_bad_arguments():
    t = time_steps(NS, "logSNR", 1.0, 1e-3, 5, dtype=torch.float64)
    with pytest.raises(ValueError, match="order must be one of"):
        deis(EPS, x_T(), NS, t, order=5)
    with pytest.raises(ValueError, match="basis must be one of"):
        deis(EPS, x_T(), NS, t, basis="lambda")
    with pytest.raises(ValueError, match="order must be one of"):
        ipndm(EPS, x_T(), NS, t, order=True)
