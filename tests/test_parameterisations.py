"""Training objectives against closed forms: the loss at the Bayes-optimal predictor of each head
(eps, x0, v, score, EDM) equals the minimum computed independently from the exact mixture's
posterior variance, within Monte Carlo error; a tiny model trained with each loss reaches it; the
likelihood weighting reproduces the I-MMSE integral."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from difflearn import GaussianMixture, NoiseScheduleVP
from difflearn.training import TrainConfig, fit, make_batch_fn
from difflearn.training.edm import (
    EDMDenoiser,
    edm_loss,
    edm_noise_fn,
    edm_preconditioning,
    make_edm_batch_fn,
)
from difflearn.training.parameterisations import (
    PREDICTIONS,
    head_to_eps,
    head_to_x0,
    parameterised_loss,
)

NS = NoiseScheduleVP("linear", dtype=torch.float64)
GM = GaussianMixture([[-1.5], [0.5], [2.0]], [0.3, 0.6, 0.2], [0.3, 0.5, 0.2])


def alpha_sigma(t):
    m = NS.marginals([t])
    return float(m.alpha[0]), float(m.sigma[0])


def posterior_variance_1d(gm, x, a, s):
    """Var(x0 | x_t = x) of a 1-D mixture, from each component's Gaussian posterior (numpy)."""
    mu, sd, w = gm.means[:, 0].numpy(), gm.stds.numpy(), gm.weights.numpy()
    var_t = a**2 * sd**2 + s**2                                          # (K,)
    logp = np.log(w) - 0.5 * (x[:, None] - a * mu) ** 2 / var_t - 0.5 * np.log(2 * np.pi * var_t)
    r = np.exp(logp - logp.max(1, keepdims=True))
    r /= r.sum(1, keepdims=True)
    gain = a * sd**2 / var_t
    m_k = mu + gain * (x[:, None] - a * mu)                               # posterior means (N, K)
    v_k = sd**2 * s**2 / var_t                                           # posterior variances (K,)
    mean = (r * m_k).sum(1)
    return (r * (v_k + m_k**2)).sum(1) - mean**2, np.exp(logp).sum(1)


def mmse(gm, a, s):
    """E_{x_t} Var(x0 | x_t): a 1-D integral of closed forms, on a fine grid."""
    x = np.linspace(-15, 15, 60001)
    var, p = posterior_variance_1d(gm, x, a, s)
    return float(np.trapezoid(var * p, x))


def oracle(prediction, gm=GM):
    """The Bayes-optimal head: the exact E[target | x_t] of the mixture."""
    def model(x_t, t_in):
        t = t_in.to(torch.float64)
        a, s = (torch.as_tensor(v).reshape(-1, 1) for v in (NS.marginals(t).alpha, NS.marginals(t).sigma))
        eps, x0 = gm.eps(x_t, t, NS), gm.x0(x_t, t, NS)
        return {"eps": eps, "x0": x0, "v": a * eps - s * x0, "score": -eps / s}[prediction]
    return model


def fixed_t_batch(gm, t, n, seed=0):
    g = torch.Generator().manual_seed(seed)
    batch = make_batch_fn(gm.sample(n, g), NS, sample_times=lambda g, n: torch.full((n,), t, dtype=torch.float64))
    return batch(g, n)


@pytest.mark.parametrize("prediction", PREDICTIONS)
@pytest.mark.parametrize("t", [0.05, 0.5])
def test_loss_at_the_optimum_equals_the_closed_form_minimum(prediction, t):
    a, s = alpha_sigma(t)
    # the minimum of each head's MSE, from E Var(x0 | x_t) and the head's linear relation to x0
    factor = {"eps": a**2 / s**2, "x0": 1.0, "v": (a**2 + s**2) ** 2 / s**2, "score": a**2 / s**4}[prediction]
    expected = factor * mmse(GM, a, s)
    batch = fixed_t_batch(GM, t, 50_000)
    per = parameterised_loss(oracle(prediction), NS, batch, prediction=prediction, reduction="none")
    mean, se = float(per.mean()), float(per.std() / math.sqrt(len(per)))
    assert abs(mean - expected) < 4 * se, (mean, expected, se)
    # and the test can fail: a predictor off by 0.3 of the typical error is far above the minimum
    worse = lambda x, ti: oracle(prediction)(x, ti) + 0.3 * math.sqrt(expected)  # noqa: E731
    assert float(parameterised_loss(worse, NS, batch, prediction=prediction)) > expected + 10 * se


@pytest.mark.parametrize("weighting", ["snr", "snr+1", "truncated_snr", "min_snr"])
def test_every_head_gives_the_same_weighted_loss(weighting):
    """With a weighting in eps units, the head no longer matters: one loss, four heads."""
    batch = fixed_t_batch(GM, 0.4, 2000, seed=1)
    wrong = lambda p: (lambda x, ti: oracle(p)(x, ti) + 0.05 * torch.sin(3 * x))  # noqa: E731
    # the same imperfect model (eps = the oracle eps plus a perturbation), seen through each head
    eps_model = wrong("eps")
    a, s = alpha_sigma(0.4)
    at, st = torch.full((2000,), a, dtype=torch.float64), torch.full((2000,), s, dtype=torch.float64)

    def head(p):
        def model(x, ti):
            e = eps_model(x, ti)
            x0 = (x - s * e) / a
            return {"eps": e, "x0": x0, "v": a * e - s * x0, "score": -e / s}[p]
        return model

    values = [float(parameterised_loss(head(p), NS, batch, prediction=p, weighting=weighting, gamma=2.0))
              for p in PREDICTIONS]
    np.testing.assert_allclose(values, values[0], rtol=1e-10)
    # the heads convert back to the same eps and x0
    x_t = torch.randn(5, 1, dtype=torch.float64)
    for p in PREDICTIONS:
        out = head(p)(x_t, torch.full((5,), 0.4, dtype=torch.float64))
        e = eps_model(x_t, torch.full((5,), 0.4, dtype=torch.float64))
        torch.testing.assert_close(head_to_eps(p, out, x_t, at[:5], st[:5]), e)
        torch.testing.assert_close(head_to_x0(p, out, x_t, at[:5], st[:5]), (x_t - s * e) / a)


def test_min_snr_weight_matches_hang_et_al():
    """min-SNR-gamma: x0-MSE weighted by min(SNR, gamma) (Hang et al., 2023, eq. 8), computed here
    directly from x0 errors, equals the library's eps-head loss with weighting='min_snr'."""
    batch = make_batch_fn(GM.sample(4000, torch.Generator().manual_seed(3)), NS)(torch.Generator().manual_seed(4), 4000)
    model = lambda x, ti: 0.3 * x + 0.1  # noqa: E731  (any eps predictor)
    ours = float(parameterised_loss(model, NS, batch, prediction="eps", weighting="min_snr", gamma=5.0))
    a, s = batch["alpha"][:, None], batch["sigma"][:, None]
    x_t = a * batch["x0"] + s * batch["eps"]
    x0_hat = (x_t - s * model(x_t, None)) / a
    snr = (a / s) ** 2
    ref = float((torch.clamp(snr, max=5.0) * (x0_hat - batch["x0"]) ** 2).mean())
    assert abs(ours - ref) < 1e-10 * ref


def test_likelihood_weighting_is_the_i_mmse_integral():
    """For Gaussian data N(0, s^2), the likelihood-weighted eps loss at the optimum, with t uniform,
    is (1/2) ln((1 + SNR(t_min) s^2) / (1 + SNR(T) s^2)) per dimension (Guo et al.'s I-MMSE; the
    diffusion term of Kingma et al.'s continuous ELBO)."""
    sd, t_min = 0.7, 0.02
    gm = GaussianMixture([[0.0, 0.0]], sd)
    g = torch.Generator().manual_seed(5)
    batch = make_batch_fn(gm.sample(400_000, g), NS,
                          sample_times=lambda g, n: t_min + (1 - t_min) * torch.rand(n, generator=g, dtype=torch.float64))(g, 400_000)
    per = parameterised_loss(oracle("eps", gm), NS, batch, weighting="likelihood", reduction="none") * (1 - t_min)
    snr = lambda t: (lambda a, s: a**2 / s**2)(*alpha_sigma(t))  # noqa: E731
    expected = 0.5 * math.log((1 + snr(t_min) * sd**2) / (1 + snr(1.0) * sd**2))
    mean, se = float(per.mean()), float(per.std() / math.sqrt(len(per)))
    assert abs(mean - expected) < 4 * se, (mean, expected, se)


def edm_oracle(gm, noise_scale=1.0, sigma_data=0.5):
    """The raw network F that makes EDMDenoiser the exact posterior mean E[x0 | x0 + sigma n]."""
    def net(x_in, c_noise):
        sigma = torch.exp(4 * c_noise.to(torch.float64) / noise_scale)     # (B,)
        c_skip, c_out, c_in, _ = edm_preconditioning(sigma, sigma_data)
        x_ve = x_in / c_in[:, None]
        a = 1 / torch.sqrt(1 + sigma**2)                                 # the VP time with sigma_t/alpha_t = sigma
        t = NS.sigma_to_t(sigma)
        d = gm.x0(a[:, None] * x_ve, t, NS)
        return (d - c_skip[:, None] * x_ve) / c_out[:, None]
    return net


@pytest.mark.parametrize("sigma", [0.1, 0.5, 2.0])
def test_edm_loss_at_the_optimum(sigma):
    sigma_data = 0.5
    g = torch.Generator().manual_seed(6)
    batch = make_edm_batch_fn(GM.sample(100_000, g))(g, 100_000)
    batch["sigma"] = torch.full((100_000,), sigma, dtype=torch.float64)
    den = EDMDenoiser(edm_oracle(GM, 1000.0, sigma_data), sigma_data, noise_scale=1000.0)
    per = edm_loss(den, batch, reduction="none")
    a = 1 / math.sqrt(1 + sigma**2)
    lam = (sigma**2 + sigma_data**2) / (sigma * sigma_data) ** 2
    expected = lam * mmse(GM, a, a * sigma)                     # E Var(x0 | x0 + sigma n), x_t = a(x0 + sigma n)
    mean, se = float(per.mean()), float(per.std() / math.sqrt(len(per)))
    assert abs(mean - expected) < 4 * se, (mean, expected, se)
    # the same denoiser, seen by the samplers as a noise prediction, is the mixture's exact eps
    x_t = torch.randn(6, 1, dtype=torch.float64)
    t = NS.sigma_to_t(torch.tensor([sigma], dtype=torch.float64))
    torch.testing.assert_close(edm_noise_fn(den, NS)(x_t, t.expand(6)), GM.eps(x_t, t, NS))


class Affine(nn.Module):
    """out = a x + b: the Bayes-optimal form of every head at a fixed t for Gaussian data."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(1, 1, dtype=torch.float64)

    def forward(self, x, t_in):
        return self.lin(x)


@pytest.mark.parametrize("prediction", ["eps", "x0", "v", "edm"])
def test_a_tiny_model_trained_with_each_loss_reaches_the_minimum(prediction):
    mu, sd, t = 0.5, 0.8, 0.3
    gm = GaussianMixture([[mu]], sd)
    a, s = alpha_sigma(t)
    data = gm.sample(20_000, torch.Generator().manual_seed(7))
    config = TrainConfig(steps=600, batch_size=1024, lr=0.05, warmup=10, ema_decay=0.95, seed=0,
                         checkpoint_every=0, progress=False, grad_clip=0.0)
    post_var = sd**2 * s**2 / (a**2 * sd**2 + s**2)                 # Var(x0 | x_t) of Gaussian data
    if prediction == "edm":
        sigma = s / a
        make = make_edm_batch_fn(data)

        def batches(g, n):
            b = make(g, n)
            b["sigma"] = torch.full((n,), sigma, dtype=torch.float64)
            return b
        model = EDMDenoiser(Affine(), sigma_data=0.5)
        result = fit(model, edm_loss, batches, config, device="cpu")
        evaluate = lambda b: edm_loss(result.ema, b, reduction="none")  # noqa: E731
        expected = (sigma**2 + 0.25) / (0.5 * sigma) ** 2 * post_var
    else:
        batches = make_batch_fn(data, NS, sample_times=lambda g, n: torch.full((n,), t, dtype=torch.float64))
        loss = lambda m, b: parameterised_loss(m, NS, b, prediction=prediction)  # noqa: E731
        result = fit(Affine(), loss, batches, config, device="cpu")
        evaluate = lambda b: parameterised_loss(result.ema, NS, b, prediction=prediction, reduction="none")  # noqa: E731
        expected = {"eps": a**2 / s**2, "x0": 1.0, "v": 1 / s**2}[prediction] * post_var
    with torch.no_grad():
        per = evaluate(batches(torch.Generator().manual_seed(99), 200_000))
    mean, se = float(per.mean()), float(per.std() / math.sqrt(len(per)))
    assert abs(mean - expected) < 4 * se, (prediction, mean, expected, se)
