"""difflearn.data.mixture against independent references: finite differences, Monte Carlo, scipy."""

import math

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.integrate import solve_ivp

from difflearn.data import GaussianMixture, checkerboard, mixture_2d, moons, swiss_roll
from difflearn.schedules import NoiseScheduleVP, beta_schedule


def T64(t):
    return torch.tensor(t, dtype=torch.float64)


LINEAR = NoiseScheduleVP("linear", continuous_beta_0=0.1, continuous_beta_1=20.0)


def mixture3d():
    return GaussianMixture([[1.0, -1.0, 0.5], [-1.5, 0.5, 0.0], [0.0, 2.0, -1.0]], [0.3, 0.5, 0.2],
                           [0.5, 0.3, 0.2])


def schedules():
    return {
        "linear": LINEAR,
        "cosine": NoiseScheduleVP("cosine"),
        "discrete": NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000), dtype=torch.float64),
    }


@pytest.mark.parametrize("name", ["linear", "cosine", "discrete"])
@pytest.mark.parametrize("t", [0.02, 0.3, 0.7])
def test_score_is_gradient_of_marginal_log_prob(name, t):
    ns, gm = schedules()[name], mixture3d()
    x = torch.randn(6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    marg = gm.marginal(ns, t)
    h, fd = 1e-5, torch.zeros_like(x)
    for d in range(3):  # central differences, an independent route to the gradient
        e = torch.zeros(3, dtype=torch.float64)
        e[d] = h
        fd[:, d] = (marg.log_prob(x + e) - marg.log_prob(x - e)) / (2 * h)
    score = gm.score(x, T64(t), ns)
    torch.testing.assert_close(score, fd, rtol=1e-6, atol=1e-6)
    alpha, sigma = ns.marginal_alpha(torch.tensor([t], dtype=torch.float64)), None
    sigma = torch.sqrt(1 - alpha**2)
    torch.testing.assert_close(gm.eps(x, T64(t), ns), -sigma * fd, rtol=1e-6, atol=1e-6)


def test_x0_matches_gaussian_conditioning_with_scipy():
    gm, t = mixture3d(), 0.4
    a = float(LINEAR.marginal_alpha(torch.tensor([t], dtype=torch.float64)))
    s = math.sqrt(1 - a * a)
    x = np.random.default_rng(0).normal(size=(5, 3))
    means, stds, w = gm.means.numpy(), gm.stds.numpy(), gm.weights.numpy()
    var = a * a * stds**2 + s * s
    mvn = [stats.multivariate_normal(a * means[k], var[k] * np.eye(3)) for k in range(3)]
    dens = np.stack([w[k] * mvn[k].pdf(x) for k in range(3)], 1)
    post = dens / dens.sum(1, keepdims=True)
    cond = [means[k] + a * stds[k] ** 2 / var[k] * (x - a * means[k]) for k in range(3)]
    ref = sum(post[:, k, None] * cond[k] for k in range(3))
    xt = torch.tensor(x)
    np.testing.assert_allclose(gm.x0(xt, T64(t), LINEAR).numpy(), ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gm.class_posterior(xt, T64(t), LINEAR).numpy(), post, rtol=1e-10)


@pytest.mark.parametrize("t", [0.1, 0.5])
def test_marginal_matches_monte_carlo_forward_noising(t):
    gm, g = mixture3d(), torch.Generator().manual_seed(0)
    n = 200_000
    a = float(LINEAR.marginal_alpha(torch.tensor([t], dtype=torch.float64)))
    xt = a * gm.sample(n, g) + math.sqrt(1 - a * a) * torch.randn(n, 3, dtype=torch.float64, generator=g)
    marg = gm.marginal(LINEAR, t)
    mean = (marg.weights[:, None] * marg.means).sum(0)
    second = (marg.weights[:, None, None] * (marg.means[:, :, None] * marg.means[:, None, :]
              + marg.stds[:, None, None] ** 2 * torch.eye(3, dtype=torch.float64))).sum(0)
    cov = second - mean[:, None] * mean[None]
    # standard error of a mean ~ 1/sqrt(n) = 0.0022; 5 s.e. tolerance
    torch.testing.assert_close(xt.mean(0), mean, atol=0.015, rtol=0)
    torch.testing.assert_close(torch.cov(xt.T), cov, atol=0.03, rtol=0)
    # the 1-D projection along u is the mixture of N(u.m_k, v_k): a KS test against its CDF
    u = torch.tensor([0.6, -0.8, 0.0], dtype=torch.float64)
    proj = (xt[:20_000] @ u).numpy()
    m_u, sd = (marg.means @ u).numpy(), marg.stds.numpy()

    def cdf(z):
        return sum(marg.weights[k].item() * stats.norm.cdf(z, m_u[k], sd[k]) for k in range(3))
    assert stats.kstest(proj, cdf).pvalue > 1e-3


def test_pf_ode_solve_matches_scipy_in_original_time():
    """Solve dx/dt = -beta(t)/2 (x + score) in t (linear VP SDE) at two tolerances."""
    gm = mixture3d()
    x_T = torch.randn(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    t_T, t_0 = 1.0, 1e-3

    def rhs(t, y):
        beta = 0.1 + t * (20.0 - 0.1)
        x = torch.tensor(y).reshape(4, 3)
        return (-0.5 * beta * (x + gm.score(x, T64(t), LINEAR))).numpy().reshape(-1)

    sols = [solve_ivp(rhs, (t_T, t_0), x_T.numpy().reshape(-1), method="RK45", rtol=tol, atol=tol).y[:, -1]
            for tol in (1e-6, 1e-9)]
    ours = gm.pf_ode_solve(x_T, t_T, t_0, LINEAR).numpy().reshape(-1)
    assert np.abs(sols[0] - sols[1]).max() < 1e-3       # the t-solve converges ...
    assert np.abs(ours - sols[1]).max() < 1e-6          # ... to our log-sigma solve
    assert np.abs(ours - sols[0]).max() > np.abs(ours - sols[1]).max()


def test_noise_fn_time_inputs_and_labels():
    gm = mixture3d()
    ns = schedules()["discrete"]
    x = torch.randn(3, 3, dtype=torch.float64)
    t = torch.tensor([0.3, 0.3, 0.3], dtype=torch.float64)
    f_c, f_d = gm.noise_fn(ns), gm.noise_fn(ns, time_input="discrete")
    torch.testing.assert_close(f_d(x, 1000 * (t - 1 / 1000)), f_c(x, t))
    # a label restricts the score to one component: eps = sigma (x - alpha mu_y) / v_y
    a = ns.marginal_alpha(t[:1])
    s = torch.sqrt(1 - a**2)
    v = a**2 * gm.stds[1] ** 2 + s**2
    torch.testing.assert_close(gm.noise_fn(ns, y=1)(x, t), s * (x - a * gm.means[1]) / v)
    torch.testing.assert_close(f_c(x, t, torch.tensor([-1, -1, -1])), f_c(x, t))
    with pytest.raises(ValueError, match="time_input must be one of"):
        gm.noise_fn(ns, time_input="seconds")(x, t)


def test_classifier_gradient_is_bayes_rule():
    """grad log p(y|x_t) = score(x_t | y) - score(x_t)."""
    gm, t = mixture3d(), torch.tensor(0.5)
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0, 1, 2, 1])
    lp = gm.classifier_fn(LINEAR)(x, t, y)
    (grad,) = torch.autograd.grad(lp.sum(), x)
    xd = x.detach()
    torch.testing.assert_close(grad, gm.score(xd, t, LINEAR, y) - gm.score(xd, t, LINEAR))
    assert torch.all(lp < 0)


def test_float32_inputs_keep_dtype_and_sample_statistics():
    gm = mixture3d()
    x = torch.randn(5, 3)
    assert gm.eps(x, torch.tensor(0.5), LINEAR).dtype == torch.float32
    s, y = gm.sample(50_000, torch.Generator().manual_seed(0), return_labels=True)
    counts = torch.bincount(y, minlength=3).double() / 50_000
    torch.testing.assert_close(counts, gm.weights, atol=0.01, rtol=0)
    torch.testing.assert_close(s[y == 1].std(0), T64([0.5] * 3), atol=0.01, rtol=0)


def test_bad_input():
    with pytest.raises(ValueError, match="means must have shape"):
        GaussianMixture([1.0, 2.0])
    with pytest.raises(ValueError, match="weights must be None or K=2"):
        GaussianMixture([[0.0], [1.0]], weights=[1.0, -1.0])
    with pytest.raises(ValueError, match="name must be one of"):
        mixture_2d("donut")
    with pytest.raises(ValueError, match="x must have 3 features"):
        mixture3d().log_prob(torch.zeros(2, 2))


def test_datasets_lie_on_their_shapes():
    g = torch.Generator().manual_seed(0)
    m = moons(2000, g, noise=0.0) * 0.75 + torch.tensor([0.5, 0.25], dtype=torch.float64)
    upper, lower = m[:1000], m[1000:]  # unit circles centred at (0, 0) and (1, 0.5)
    torch.testing.assert_close(upper.norm(dim=1), torch.ones(1000, dtype=torch.float64))
    torch.testing.assert_close((lower - torch.tensor([1.0, 0.5], dtype=torch.float64)).norm(dim=1),
                               torch.ones(1000, dtype=torch.float64))
    sr = swiss_roll(1000, g, noise=0.0) * 7.0
    r, th = sr.norm(dim=1), torch.atan2(sr[:, 1], sr[:, 0])
    assert torch.allclose(torch.cos(r), torch.cos(th), atol=1e-9)  # r = theta (mod 2 pi)
    cb = checkerboard(4000, g)
    cells = torch.floor((cb + 2.0) / 1.0).long()
    assert bool(((cells.sum(1) % 2) == 0).all()) and cb.abs().max() <= 2.0
    g5 = [torch.Generator().manual_seed(5) for _ in range(2)]
    assert torch.equal(moons(10, g5[0]), moons(10, g5[1]))
    for name in ("ring8", "grid9", "two", "spiral"):
        assert mixture_2d(name).sample(7).shape == (7, 2)
