"""Conformance of the sampler zoo with k-diffusion (a test-only dependency).

k-diffusion works in EDM's variables: the state x~ = x / alpha_t, the noise level
sigma~ = sigma_t / alpha_t, and a denoiser D(x~, sigma~) that returns the data prediction.
Its `sigmas` end with a 0, a last step that returns D itself: our `denoise_to_zero=True`.
Both sides get the same exact mixture model, the same grid and the same injected noise;
k-diffusion runs in float64 here, so the tolerances are float64-level.

k-diffusion's package __init__ imports its training stack (torchvision, kornia, wandb,
clip ...). Only `k_diffusion.sampling` is needed, which imports `k_diffusion.utils`, which
imports torchvision's image transforms at module level but never uses them in sampling.
`load_sampling()` imports just those two modules, with a stand-in for the transforms
module when torchvision is not installed (the CPU torch of CI has no matching torchvision).
"""

import contextlib
import importlib.util
import math
import sys
import types

import numpy as np
import pytest
import torch

from difflearn import DPM_Solver
from difflearn.data import GaussianMixture
from difflearn.samplers import ddim, dpm2_ancestral, dpmpp_2s_ancestral, dpmpp_2s_sde, euler, heun, lms, sample, sde_dpmpp_2m, sde_dpmpp_3m
from difflearn.schedules import NoiseScheduleVP, time_steps


def load_sampling():
    if "k_diffusion" not in sys.modules:  # a bare package object: skips k_diffusion/__init__.py
        spec = importlib.util.find_spec("k_diffusion")
        if spec is None or not spec.submodule_search_locations:
            pytest.skip("k-diffusion is not installed (make test installs it)", allow_module_level=True)
        pkg = types.ModuleType("k_diffusion")
        pkg.__path__ = list(spec.submodule_search_locations)
        pkg.__spec__ = spec  # so that a second find_spec (this module imported twice) works
        sys.modules["k_diffusion"] = pkg
    stubs = {}
    if importlib.util.find_spec("torchvision") is None:
        # only while k_diffusion.utils is imported: other libraries (diffusers) must keep
        # seeing that torchvision is absent
        tv = types.ModuleType("torchvision")
        tv.transforms = types.ModuleType("torchvision.transforms")
        tv.transforms.functional = types.ModuleType("torchvision.transforms.functional")
        stubs = {"torchvision": tv, "torchvision.transforms": tv.transforms,
                 "torchvision.transforms.functional": tv.transforms.functional}
    sys.modules.update(stubs)
    try:
        import k_diffusion.sampling as kds
    finally:
        for name in stubs:
            sys.modules.pop(name, None)
    return kds


K = load_sampling()

NS = NoiseScheduleVP("linear")
GM = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2], [0.5, 0.3, 0.2])
EPS = GM.noise_fn(NS)
B = 32
T_START, T_END = 1.0, 1e-3
TOL = dict(rtol=1e-10, atol=1e-10)


def sigma_ve(t):
    """sigma~ = sigma_t / alpha_t = exp(-lambda_t)."""
    return torch.exp(-NS.marginal_lambda(torch.as_tensor(t, dtype=torch.float64)))


def time_of(sig):
    """The time t with sigma~(t) = sig."""
    return NS.inverse_lambda(-torch.log(torch.as_tensor(sig, dtype=torch.float64)))


def denoiser(x_ve, sig):
    """k-diffusion's model: D(x~, sigma~) = E[x_0 | x_0 + sigma~ z = x~], from the exact mixture."""
    t = time_of(sig)
    alpha = torch.exp(NS.marginal_log_mean_coeff(t))[:, None]
    return GM.x0(alpha * x_ve, t, NS)


def x_T(seed=0):
    return torch.randn(B, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def kd_start(t0):
    """k-diffusion's starting state for our VP x_T: x~ = x / alpha."""
    return x_T() / torch.exp(NS.marginal_log_mean_coeff(torch.tensor([t0], dtype=torch.float64)))


@contextlib.contextmanager
def float64_default():
    """k-diffusion's grid functions build their ramps in torch's default dtype."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def kd_sigmas(kind, n, t_end=T_END, **kw):
    """n steps on k-diffusion's grid `kind` between sigma~(t_end) and sigma~(T_START), plus the final 0."""
    with float64_default():
        if kind == "vp":
            return K.get_sigmas_vp(n + 1, eps_s=t_end, **kw)
        return getattr(K, f"get_sigmas_{kind}")(n + 1, sigma_ve(t_end).item(), sigma_ve(T_START).item(), **kw)


def karras_grid(n):
    return kd_sigmas("karras", n, rho=7.0)


def our_grid(sigmas):
    """Our grid: the times of k-diffusion's non-zero sigmas (the final 0 is denoise_to_zero)."""
    return time_of(sigmas[:-1])


def fixed_noise(n, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(B, 2, dtype=torch.float64, generator=g) for _ in range(n)]


# ---- step grids ---------------------------------------------------------------------------

def test_karras_grid():
    n = 12
    ours = sigma_ve(time_steps(NS, "karras", T_START, T_END, n, dtype=torch.float64))
    torch.testing.assert_close(ours, karras_grid(n)[:-1], rtol=1e-12, atol=0)


def test_exponential_grid_is_logsnr():
    n = 12
    theirs = kd_sigmas("exponential", n)
    ours = sigma_ve(time_steps(NS, "logSNR", T_START, T_END, n, dtype=torch.float64))
    torch.testing.assert_close(ours, theirs[:-1], rtol=1e-12, atol=0)


def test_vp_grid_is_time_uniform():
    # get_sigmas_vp: sigma~ of the linear VP schedule (beta 0.1 -> 20) on a uniform time grid
    n = 12
    theirs = kd_sigmas("vp", n, beta_d=19.9, beta_min=0.1)
    ours = sigma_ve(time_steps(NS, "time_uniform", T_START, T_END, n, dtype=torch.float64))
    torch.testing.assert_close(ours, theirs[:-1], rtol=1e-12, atol=0)


# ---- deterministic samplers ---------------------------------------------------------------

@pytest.mark.parametrize("kd_name,fn", [("sample_euler", euler), ("sample_heun", heun)])
@pytest.mark.parametrize("steps", [5, 15])
def test_euler_heun(kd_name, fn, steps):
    sigmas = karras_grid(steps)
    theirs = getattr(K, kd_name)(denoiser, kd_start(T_START), sigmas, disable=True)
    t = our_grid(sigmas)
    ours = fn(EPS, x_T(), NS, t, denoise_to_zero=True)
    torch.testing.assert_close(ours, theirs, **TOL)


@pytest.mark.parametrize("steps", [4, 10, 25])
def test_dpmpp_2m(steps):
    sigmas = karras_grid(steps)
    theirs = K.sample_dpmpp_2m(denoiser, kd_start(T_START), sigmas, disable=True)
    # k-diffusion: first step first order, then 2M to the last sigma > 0, then x = D (our
    # denoise_to_zero); it never lowers the order at the end, so lower_order_final=False
    ours = sample(EPS, x_T(), NS, method="dpmsolver++", timesteps=our_grid(sigmas), order=2,
                  lower_order_final=False, denoise_to_zero=True)
    torch.testing.assert_close(ours, theirs, **TOL)


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("steps", [3, 12])
def test_lms(order, steps):
    # k-diffusion integrates each Lagrange basis polynomial with scipy's quad; ours exactly
    sigmas = karras_grid(steps)
    theirs = K.sample_lms(denoiser, kd_start(T_START), sigmas, order=order, disable=True)
    ours = lms(EPS, x_T(), NS, our_grid(sigmas), order=order, denoise_to_zero=True)
    torch.testing.assert_close(ours, theirs, **TOL)


@pytest.mark.parametrize("steps", [3, 8])
def test_dpm_2_is_singlestep_dpm_solver_2(steps):
    # "DPM2": Euler to the geometric mean sigma~ (the midpoint in lambda), then the full step
    # with the slope there = DPM-Solver-2 (noise prediction, r1 = 1/2) on a logSNR grid
    sigmas = kd_sigmas("exponential", steps)
    theirs = K.sample_dpm_2(denoiser, kd_start(T_START), sigmas, disable=True)
    ours = DPM_Solver(EPS, NS, algorithm_type="dpmsolver").sample(
        x_T(), steps=2 * steps, order=2, method="singlestep_fixed", skip_type="logSNR",
        t_start=T_START, t_end=T_END, denoise_to_zero=True)
    torch.testing.assert_close(ours, theirs, **TOL)


@pytest.mark.parametrize("steps", [3, 8])
def test_dpmpp_2s_ancestral_eta0_is_dpmpp_2s(steps):
    # with eta = 0 the ancestral sampler injects no noise: DPM-Solver++(2S), r1 = 1/2
    sigmas = kd_sigmas("exponential", steps)
    theirs = K.sample_dpmpp_2s_ancestral(denoiser, kd_start(T_START), sigmas, eta=0.0, disable=True)
    ours = DPM_Solver(EPS, NS, algorithm_type="dpmsolver++").sample(
        x_T(), steps=2 * steps, order=2, method="singlestep_fixed", skip_type="logSNR",
        t_start=T_START, t_end=T_END, denoise_to_zero=True)
    torch.testing.assert_close(ours, theirs, **TOL)


@pytest.mark.parametrize("steps", [5, 12])
def test_dpmpp_3m_sde_eta0_is_official_3m(steps):
    # k-diffusion's 3M (eta = 0 makes it an ODE solver) uses the same second divided
    # difference weight as the official DPM-Solver++(3M) (our default multistep_d2_weight=0.5)
    # and the Taylor form of the second-order warm-up step
    sigmas = karras_grid(steps)
    theirs = K.sample_dpmpp_3m_sde(denoiser, kd_start(T_START), sigmas, eta=0.0, disable=True)
    ours = sample(EPS, x_T(), NS, method="dpmsolver++", timesteps=our_grid(sigmas), order=3,
                  solver_type="taylor", lower_order_final=False, denoise_to_zero=True)
    torch.testing.assert_close(ours, theirs, **TOL)


def test_dpmpp_3m_sde_eta0_is_second_order():
    # ... so it inherits the official 3M's order: 2, not 3 (see the DPM-Solver page);
    # multistep_d2_weight=1.0 on our side gives order 3. Reference: an independent scipy solve.
    t_end = 1e-2
    ref = GM.pf_ode_solve(x_T(), T_START, t_end, NS)
    x_kd = x_T() / torch.exp(NS.marginal_log_mean_coeff(torch.tensor([T_START], dtype=torch.float64)))
    a_end = math.exp(NS.marginal_log_mean_coeff(torch.tensor([t_end], dtype=torch.float64)).item())
    Ns = (40, 80, 160)
    err_kd, err_ours = [], []
    for n in Ns:
        sig = kd_sigmas("exponential", n, t_end=t_end)[:-1]  # end at t_end, no final denoising
        out = K.sample_dpmpp_3m_sde(denoiser, x_kd, sig, eta=0.0, disable=True)
        err_kd.append((a_end * out - ref).norm(dim=1).mean().item())
        solver = DPM_Solver(EPS, NS, algorithm_type="dpmsolver++")
        solver.multistep_d2_weight = 1.0
        ours = solver.sample(x_T(), steps=n, order=3, skip_type="logSNR", t_start=T_START, t_end=t_end,
                             lower_order_final=False)
        err_ours.append((ours - ref).norm(dim=1).mean().item())
    slope = lambda e: (-np.diff(np.log(e)) / np.diff(np.log(Ns)))[-1]
    assert abs(slope(err_kd) - 2) < 0.3, err_kd
    assert abs(slope(err_ours) - 3) < 0.3, err_ours


# ---- stochastic samplers, with the same noise ---------------------------------------------

@pytest.mark.parametrize("eta", [0.0, 0.5, 1.0])
def test_euler_ancestral_is_ddim_eta(eta):
    # sigma_up^2 = eta^2 s^2 (S^2 - s^2) / S^2 is DDIM's sigma_eta^2 / alpha_s^2, and the
    # Euler step to sigma_down lands on DDIM's mean: Euler a(eta) = DDIM(eta), step for step
    steps = 12
    sigmas = karras_grid(steps)
    z = fixed_noise(steps)
    it1, it2 = iter(z), iter(z)
    theirs = K.sample_euler_ancestral(denoiser, kd_start(T_START), sigmas, eta=eta, disable=True,
                                      noise_sampler=lambda s, s_next: next(it1))
    ours = ddim(EPS, x_T(), NS, our_grid(sigmas), eta=eta, denoise_to_zero=True,
                noise_sampler=lambda: next(it2))
    torch.testing.assert_close(ours, theirs, **TOL)


@pytest.mark.parametrize("solver_type", ["midpoint", "heun"])
@pytest.mark.parametrize("steps", [6, 20])
@pytest.mark.parametrize("eta", [1.0, 0.5])
def test_dpmpp_2m_sde(solver_type, steps, eta):
    sigmas = karras_grid(steps)
    z = fixed_noise(steps)
    it1, it2 = iter(z), iter(z)
    theirs = K.sample_dpmpp_2m_sde(denoiser, kd_start(T_START), sigmas, eta=eta, solver_type=solver_type,
                                   noise_sampler=lambda s, s_next: next(it1), disable=True)
    ours = sde_dpmpp_2m(EPS, x_T(), NS, our_grid(sigmas), solver_type=solver_type, eta=eta,
                        lower_order_final=False, denoise_to_zero=True, noise_sampler=lambda: next(it2))
    torch.testing.assert_close(ours, theirs, **TOL)


@pytest.mark.parametrize("steps", [6, 20])
@pytest.mark.parametrize("eta", [1.0, 0.5, 0.0])
def test_dpmpp_3m_sde(steps, eta):
    sigmas = karras_grid(steps)
    z = fixed_noise(steps)
    it1, it2 = iter(z), iter(z)
    theirs = K.sample_dpmpp_3m_sde(denoiser, kd_start(T_START), sigmas, eta=eta,
                                   noise_sampler=lambda s, s_next: next(it1), disable=True)
    ours = sde_dpmpp_3m(EPS, x_T(), NS, our_grid(sigmas), eta=eta, lower_order_final=False,
                        denoise_to_zero=True, noise_sampler=lambda: next(it2))
    torch.testing.assert_close(ours, theirs, **TOL)


@pytest.mark.parametrize("kd_name,fn", [("sample_euler", euler), ("sample_heun", heun)])
@pytest.mark.parametrize("s_tmin", [0.0, 0.5])
def test_churn(kd_name, fn, s_tmin):
    # k-diffusion draws one torch.randn_like per step from the global generator, and uses it
    # only where it churns; ours asks noise_sampler only where it churns. gamma =
    # min(s_churn / n, sqrt 2 - 1), n counting the step to sigma = 0, which is churned too.
    steps = 10
    sigmas = karras_grid(steps)
    kw = dict(s_churn=5.0, s_tmin=s_tmin, s_tmax=10.0, s_noise=1.003)
    torch.manual_seed(3)
    theirs = getattr(K, kd_name)(denoiser, kd_start(T_START), sigmas, disable=True, **kw)
    torch.manual_seed(3)
    draws = [torch.randn(B, 2, dtype=torch.float64) for _ in range(steps + 1)]
    churned = iter([z for z, s in zip(draws, sigmas[:-1].tolist()) if s_tmin <= s <= kw["s_tmax"]])
    ours = fn(EPS, x_T(), NS, our_grid(sigmas), denoise_to_zero=True, noise_sampler=lambda: next(churned), **kw)
    torch.testing.assert_close(ours, theirs, **TOL)


@pytest.mark.parametrize("kd_name,fn", [("sample_dpm_2_ancestral", dpm2_ancestral),
                                        ("sample_dpmpp_2s_ancestral", dpmpp_2s_ancestral)])
@pytest.mark.parametrize("eta", [0.0, 0.5, 1.0])
def test_second_order_ancestral(kd_name, fn, eta):
    steps = 10
    sigmas = karras_grid(steps)
    z = fixed_noise(steps)
    it1, it2 = iter(z), iter(z)
    theirs = getattr(K, kd_name)(denoiser, kd_start(T_START), sigmas, eta=eta, s_noise=1.01, disable=True,
                                 noise_sampler=lambda s, s_next: next(it1))
    ours = fn(EPS, x_T(), NS, our_grid(sigmas), eta=eta, s_noise=1.01, denoise_to_zero=True,
              noise_sampler=lambda: next(it2))
    torch.testing.assert_close(ours, theirs, **TOL)


@pytest.mark.parametrize("eta", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("r", [0.5, 1 / 3])
def test_dpmpp_sde(eta, r):
    # two noise draws per step, in the same order on both sides (k-diffusion's default is a
    # Brownian tree; any noise_sampler works)
    steps = 8
    sigmas = karras_grid(steps)
    z = fixed_noise(2 * steps)
    it1, it2 = iter(z), iter(z)
    theirs = K.sample_dpmpp_sde(denoiser, kd_start(T_START), sigmas, eta=eta, r=r, s_noise=1.02, disable=True,
                                noise_sampler=lambda s, s_next: next(it1))
    ours = dpmpp_2s_sde(EPS, x_T(), NS, our_grid(sigmas), eta=eta, r=r, s_noise=1.02, denoise_to_zero=True,
                     noise_sampler=lambda: next(it2))
    torch.testing.assert_close(ours, theirs, **TOL)
