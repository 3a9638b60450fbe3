"""Optimised time grids: the dynamic programme, the reference solve, the AYS bound, the
closed-form optimum on a single Gaussian, every sampler, the analytic first step and the
cached grids.

References are independent of the code under test: brute force over all paths, scipy's
solve of the probability-flow ODE, the closed-form expectation of the AYS integrand for
Gaussian data, and the tangent law (below) for DDIM on a Gaussian.
"""

import itertools
import warnings

import numpy as np
import pytest
import torch

from difflearn import GaussianMixture, NoiseScheduleVP, sample
from difflearn.samplers import (
    METHODS,
    GridMismatchWarning,
    analytic_first_step,
    calibrate,
    list_grids,
    load_grid,
    optimise_grid,
)
from difflearn.samplers.grid_cache import WEIGHTS
from difflearn.samplers.grid_costs import candidate_times, klub_costs, shortest_path

NS = NoiseScheduleVP("linear")
GM = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2], [0.5, 0.3, 0.2])
EPS = GM.noise_fn(NS)


def noise(n, seed=1, d=2):
    return torch.randn(n, d, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def test_shortest_path_is_the_cheapest_of_all_paths():
    rng = np.random.default_rng(0)
    M1 = 8
    C = np.where(np.triu(np.ones((M1, M1)), 1) > 0, rng.random((M1, M1)), np.inf)
    for steps in range(1, M1):
        path = shortest_path(C, steps)
        assert path[0] == 0 and path[-1] == M1 - 1 and len(path) == steps + 1
        best = min(sum(C[a, b] for a, b in zip((0, *mid), (*mid, M1 - 1)))
                   for mid in itertools.combinations(range(1, M1 - 1), steps - 1))
        assert sum(C[a, b] for a, b in zip(path, path[1:])) == pytest.approx(best, rel=1e-12)
    with pytest.raises(ValueError, match="steps must be an int in"):
        shortest_path(C, M1)


def test_reference_trajectory_matches_scipy():
    x = noise(32)
    ref = calibrate(EPS, x, NS, 1.0, 1e-3, candidates=16, substeps=16)
    for k in (8, 16):
        err = (ref.states[k] - GM.pf_ode_solve(x, 1.0, float(ref.cand.t[k]), NS)).norm(dim=1)
        assert err.mean() < 5e-6 and err.max() < 5e-5, (k, err.mean(), err.max())
    exact_x0 = GM.x0(ref.states[7], torch.full((32,), float(ref.cand.t[7]), dtype=torch.float64), NS)
    torch.testing.assert_close(ref.x0_preds[7], exact_x0, rtol=1e-10, atol=1e-10)


def test_klub_costs_match_the_gaussian_closed_form():
    r"""For data N(mu, s^2 I) in d dimensions D(x~, sigma) = mu + s^2/(s^2 + sigma^2) (x~ - mu), and
    along one forward path E|D_sigma - D_sigma_j|^2 = d s^4 (1/(s^2 + sigma^2) - 1/(s^2 + sigma_j^2))."""
    s, d, B = 0.5, 2, 20000
    gm = GaussianMixture([[0.3, -0.2]], s)
    cand = candidate_times(NS, 1.0, 1e-3, 24)
    x0 = gm.sample(B, generator=torch.Generator().manual_seed(3))
    C = klub_costs(gm.noise_fn(NS), x0, cand, torch.Generator().manual_seed(4))
    sig, u = cand.sigma_ve, np.log(cand.sigma_ve)
    for j in (0, 6, 15):
        g = d * s**4 * (1 / (s**2 + sig[j:] ** 2) - 1 / (s**2 + sig[j] ** 2)) / sig[j:] ** 2
        exact = np.cumsum((u[j:-1] - u[j + 1:]) * 0.5 * (g[:-1] + g[1:]))
        np.testing.assert_allclose(C[j, j + 1:], exact, rtol=0.04)
    assert np.isinf(C[5, :6]).all()


def test_ddim_on_a_gaussian_finds_the_tangent_law():
    r"""DDIM on data N(mu, s^2 I): with theta = arctan(sigma~ / s) each step multiplies x~ - mu by
    cos(theta_i - theta_{i+1}) cos(theta_i) / cos(theta_{i+1}), the exact flow by cos(theta_i) /
    cos(theta_{i+1}): the error factor prod cos(dtheta_i) is largest, for a fixed sum of the
    dtheta_i, when they are all equal. The optimal grid is uniform in theta, for every N."""
    s, N = 0.5, 4
    gm = GaussianMixture([[0.3, -0.2]], s)
    r = optimise_grid(gm.noise_fn(NS), noise(16), NS, "ddim", N, init="logSNR", maxfev=600)
    th = np.arctan(NS.marginals([1.0, 1e-3]).sigma_ve / s)
    lam_opt = -np.log(s * np.tan(np.linspace(th[0], th[1], N + 1)))
    np.testing.assert_allclose(r.lam, lam_opt, atol=1e-3)
    assert r.errors["logSNR+refined"] < 0.6 * r.errors["logSNR"]


def test_every_sampler_gets_a_valid_grid():
    x = noise(8)
    ref = calibrate(EPS, x, NS, 1.0, 1e-3, candidates=12, substeps=2)
    for method in (m for m in METHODS if m != "rk45"):  # rk45 chooses its own steps
        torch.manual_seed(0)  # the stochastic samplers draw from the global generator
        r = optimise_grid(EPS, x, NS, method, 3, reference=ref, maxfev=12)
        t = r.timesteps
        assert t.dtype == torch.float64 and t.shape == (4,), method
        assert t[0].item() == 1.0 and t[-1].item() == 1e-3, method
        assert bool((t[1:] < t[:-1]).all()), (method, t)
        assert torch.isfinite(sample(EPS, x, NS, method, timesteps=t)).all(), method


def test_optimiser_rejects_bad_input():
    x = noise(4)
    with pytest.raises(ValueError, match="method must be one of"):
        optimise_grid(EPS, x, NS, "rk4", 3)
    with pytest.raises(ValueError, match="steps must be an int >= 1"):
        optimise_grid(EPS, x, NS, "ddim", 0)
    with pytest.raises(ValueError, match="init must hold names from"):
        optimise_grid(EPS, x, NS, "ddim", 3, init="cosine")
    with pytest.raises(ValueError, match="needs data samples x0"):
        optimise_grid(EPS, x, NS, "ddim", 3, init="ays")
    ref = calibrate(EPS, x, NS, 1.0, 1e-3, candidates=4, substeps=1)
    with pytest.raises(ValueError, match="steps must be smaller"):
        optimise_grid(EPS, x, NS, "ddim", 5, reference=ref)
    with pytest.raises(ValueError, match="other noises"):
        optimise_grid(EPS, noise(4, seed=9), NS, "ddim", 3, reference=ref)


def test_analytic_first_step_is_the_gaussian_noise_prediction():
    gm = GaussianMixture([[0.3, -0.2]], 0.7)
    calls = []

    def model(x, t):
        calls.append(float(t[0]))
        return gm.eps(x, t, NS)

    fn = analytic_first_step(model, NS, 1.0, mean=torch.tensor([0.3, -0.2], dtype=torch.float64), var=0.49)
    x = noise(16)
    torch.testing.assert_close(fn(x, torch.ones(16, dtype=torch.float64)),
                               gm.eps(x, torch.ones(16, dtype=torch.float64), NS), rtol=1e-12, atol=1e-12)
    assert fn.saved == 1 and calls == []
    fn(x, torch.full((16,), 0.5, dtype=torch.float64))
    assert calls == [0.5]
    with pytest.raises(ValueError, match="var must be >= 0"):
        analytic_first_step(model, NS, 1.0, var=-1.0)
    with pytest.raises(ValueError, match="var must be >= 0"):
        analytic_first_step(model, NS, 1.0, var=float("nan"))
    zero = analytic_first_step(model, NS, 1.0, var=torch.zeros(2, dtype=torch.float64))
    assert bool(torch.isfinite(zero(x, torch.ones(16, dtype=torch.float64))).all())


def test_cached_grids_load_and_match_the_model_hash():
    entries = list_grids("digits-uncond")
    assert {e["nfe"] for e in entries} >= {5, 10}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the shipped weights: no warning
        for e in entries:
            t = load_grid("digits-uncond", e["method"], e["nfe"], **e["sampler_kwargs"])
            assert len(t) == e["steps"] + 1 and t[0] == 1.0 and t[-1] == 1e-3
            assert bool((t[1:] < t[:-1]).all())
    with pytest.warns(GridMismatchWarning, match="optimised for weights with sha256"):
        load_grid("digits-uncond", "unipc", 5, weights=WEIGHTS / "digits-cond.safetensors")
    with pytest.raises(ValueError, match="no cached grid for method"):
        load_grid("digits-uncond", "unipc", 7)
    with pytest.raises(ValueError, match="model must be one of"):
        load_grid("digits-nope", "unipc", 5)


def test_optimise_grids_tool_quick(tmp_path):
    from tools.optimise_grids import main

    main(["--quick", "--only", "toy2d-mlp", "--out", str(tmp_path)])
    (e,) = list_grids("toy2d-mlp", grids_dir=tmp_path)
    t = load_grid("toy2d-mlp", e["method"], e["nfe"], grids_dir=tmp_path, **e["sampler_kwargs"])
    assert bool((t[1:] < t[:-1]).all()) and len(t) == e["steps"] + 1
