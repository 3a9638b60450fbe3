"""Likelihoods against closed forms: the probability-flow ODE log-density of the exact mixture (exact
divergence and Hutchinson's estimator), the DDPM bound against a direct Monte Carlo of the chain,
bits per dimension; and score_sde's RK45 sampler against the scipy reference solve."""

from __future__ import annotations

import math

import pytest
import torch

from difflearn import GaussianMixture, NoiseScheduleVP, beta_schedule, sample
from difflearn.likelihood import (
    bits_per_dim,
    ddpm_elbo,
    discretized_gaussian_log_p,
    divergence_exact,
    divergence_hutchinson,
    draw_probes,
    pf_ode_log_likelihood,
)
from difflearn.samplers import METHODS, rk45

GM = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2], [0.5, 0.3, 0.2])
NS = NoiseScheduleVP("linear", dtype=torch.float64)


def test_divergences_against_the_jacobian_trace():
    A = torch.randn(5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    fn = lambda x: torch.tanh(x) @ A.T  # noqa: E731
    x = torch.randn(7, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    trace = torch.stack([torch.trace(torch.autograd.functional.jacobian(fn, xi[None])[0, :, 0]) for xi in x])
    torch.testing.assert_close(divergence_exact(fn, x)[1], trace)
    # Hutchinson is unbiased: the mean over many Rademacher probes approaches the trace
    probes = draw_probes((7, 5), 4000, "rademacher", torch.Generator().manual_seed(2))
    est = divergence_hutchinson(fn, x, probes)[1]
    assert (est - trace).abs().max() < 0.15
    assert set(probes.unique().tolist()) == {-1.0, 1.0}


def test_ode_log_likelihood_equals_the_mixture_log_density():
    x = GM.sample(16, torch.Generator().manual_seed(3))
    t0 = 1e-3
    exact = GM.marginal(NS, t0).log_prob(x)
    prior = lambda z: GM.marginal(NS, 1.0).log_prob(z)  # noqa: E731  (the exact p_T)
    r = pf_ode_log_likelihood(GM.noise_fn(NS), x, NS, t_start=t0, prior_log_p=prior, rtol=1e-8, atol=1e-8)
    assert (r.log_p - exact).abs().max() < 1e-5
    # the latent is the ODE's image of x: solving back from it returns x
    back = GM.pf_ode_solve(r.x_T, 1.0, t0, NS)
    assert (back - x).abs().max() < 1e-5
    # with the standard normal prior the answer moves by log N(x_T) - log p_T(x_T), nothing else
    r2 = pf_ode_log_likelihood(GM.noise_fn(NS), x, NS, t_start=t0, rtol=1e-8, atol=1e-8)
    torch.testing.assert_close(r2.delta_log_p, r.delta_log_p, rtol=1e-6, atol=1e-6)


def test_hutchinson_likelihood_agrees_within_its_standard_error():
    x = GM.sample(32, torch.Generator().manual_seed(4)).repeat(8, 1)  # 8 probe draws per point
    t0 = 1e-3
    exact = GM.marginal(NS, t0).log_prob(x)
    prior = lambda z: GM.marginal(NS, 1.0).log_prob(z)  # noqa: E731
    r = pf_ode_log_likelihood(GM.noise_fn(NS), x, NS, t_start=t0, prior_log_p=prior, divergence="hutchinson",
                              n_probes=2, generator=torch.Generator().manual_seed(5))
    err = r.log_p - exact
    se = float(err.std() / math.sqrt(len(err)))
    assert abs(float(err.mean())) < 4 * se
    assert 0.05 < float(err.std()) < 2.0       # it is an estimate, not the exact value


def test_ddpm_elbo_against_a_direct_monte_carlo_of_the_chain():
    """E_q[log p(x_{0:N}) - log q(x_{1:N} | x_0)] sampled directly, vs the KL decomposition."""
    gm = GaussianMixture([[1.0], [-1.0]], [0.4, 0.3], [0.6, 0.4])
    betas = torch.linspace(0.05, 0.6, 8, dtype=torch.float64)
    ns = NoiseScheduleVP("discrete", betas=betas, dtype=torch.float64)
    B, fn = 100_000, gm.noise_fn(ns)
    x0 = torch.full((B, 1), 0.7, dtype=torch.float64)
    ours = ddpm_elbo(fn, x0, betas, variance="small", generator=torch.Generator().manual_seed(0))["elbo"]
    N, alphas = len(betas), 1 - betas
    abar = torch.cumprod(alphas, 0)
    g = torch.Generator().manual_seed(1)
    xs = [x0]
    for n in range(N):
        xs.append(alphas[n].sqrt() * xs[-1] + betas[n].sqrt() * torch.randn(B, 1, generator=g, dtype=torch.float64))

    def log_n(x, m, v):
        return (-0.5 * (x - m) ** 2 / v - 0.5 * torch.log(2 * math.pi * torch.as_tensor(v))).sum(1)

    direct = log_n(xs[N], 0.0, 1.0)
    for n in range(1, N + 1):
        e = fn(xs[n], torch.full((B,), n / N, dtype=torch.float64))
        mean = (xs[n] - betas[n - 1] / (1 - abar[n - 1]).sqrt() * e) / alphas[n - 1].sqrt()
        var = betas[0] if n == 1 else (1 - abar[n - 2]) / (1 - abar[n - 1]) * betas[n - 1]
        direct += log_n(xs[n - 1], mean, var) - log_n(xs[n], alphas[n - 1].sqrt() * xs[n - 1], betas[n - 1])
    se = math.hypot(float(ours.std()), float(direct.std())) / math.sqrt(B)
    assert abs(float(ours.mean()) - float(direct.mean())) < 4 * se
    assert float(ours.mean()) < float(gm.log_prob(x0[:1])) - 0.3     # a bound, and a loose one at N = 8


def test_discretized_decoder_and_bits_per_dim():
    # a very wide decoder spreads its mass: the bins of a 3-level grid get their Gaussian masses
    x0 = torch.tensor([[-1.0, 0.0, 1.0]], dtype=torch.float64)
    lp = discretized_gaussian_log_p(x0, torch.zeros_like(x0), torch.tensor(1.0, dtype=torch.float64), 1.0)
    from scipy.stats import norm
    ref = math.log(norm.cdf(-0.5)) + math.log(norm.cdf(0.5) - norm.cdf(-0.5)) + math.log(norm.sf(0.5))
    assert abs(float(lp) - ref) < 1e-12
    # a uniform density on [-1 - d/2, 1 + d/2] over 17 bins of width d is log2(17) bits per dimension
    d = 0.125
    log_p = torch.tensor([-64 * math.log(2 + d)], dtype=torch.float64)
    assert abs(float(bits_per_dim(log_p, 64, d)) - math.log2(17)) < 1e-12
    with pytest.raises(ValueError, match="bin_width"):
        bits_per_dim(log_p, 64, 0.0)


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_rk45_sampler_against_the_reference_solve(schedule):
    ns = NoiseScheduleVP(schedule, dtype=torch.float64)
    x = torch.randn(64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    t_start = ns.T
    ref = GM.pf_ode_solve(x, t_start, 1e-3, ns)
    errs, nfes = [], []
    for tol in (1e-3, 1e-6):
        out, nfe = sample(GM.noise_fn(ns), x, ns, method="rk45", t_end=1e-3, rtol=tol, atol=tol, return_nfe=True)
        errs.append(float((out - ref).norm(dim=1).max()))
        nfes.append(nfe)
    assert errs[1] < 1e-4 and errs[1] < errs[0] / 10 and nfes[1] > nfes[0]
    assert METHODS["rk45"].on_range is not None


def test_rk45_refuses_a_grid_and_bad_options():
    x = torch.zeros(2, 2, dtype=torch.float64)
    fn = GM.noise_fn(NS)
    with pytest.raises(ValueError, match="exactly 2 times"):
        rk45(fn, x, NS, torch.linspace(1.0, 1e-3, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match="method must be one of"):
        rk45(fn, x, NS, [1.0, 1e-3], method="Euler")
    with pytest.raises(ValueError, match="rtol and atol"):
        rk45(fn, x, NS, [1.0, 1e-3], rtol=0.0)
    with pytest.raises(ValueError, match="divergence must be one of"):
        pf_ode_log_likelihood(fn, x, NS, divergence="trace")
    with pytest.raises(ValueError, match="variance must be one of"):
        ddpm_elbo(fn, x, beta_schedule("linear", 10), variance="learned")


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_sampler_refuses_zero_alpha_and_names_the_fixes(method):
    """A schedule whose last alpha is 0 (the straight path at t = 1): a clear error, not NaNs."""
    from difflearn.schedules import FlowSchedule

    flow = FlowSchedule()
    x = torch.randn(4, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match=r"alpha_t = 0.*t_start.*flow_euler"):
        sample(GM.noise_fn(flow), x, flow, method=method, steps=4)


def test_velocity_samplers_start_at_t_1_and_betas_equal_1_get_a_hint():
    from difflearn.samplers import flow_euler, flow_timesteps
    from difflearn.schedules import FlowSchedule, rescale_zero_terminal_snr

    x = torch.randn(4, 2, dtype=torch.float64)
    out = flow_euler(lambda x, t: x - 0.5, x, flow_timesteps(4))  # the velocity of the data point 0.5
    assert torch.isfinite(out).all() and FlowSchedule().marginals([1.0]).alpha[0] == 0
    with pytest.raises(ValueError, match="zero-terminal-SNR.*alphas_cumprod"):
        NoiseScheduleVP("discrete", betas=rescale_zero_terminal_snr(beta_schedule("scaled_linear", 1000)))
