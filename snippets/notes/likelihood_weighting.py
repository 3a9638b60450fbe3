# score_sde's likelihood weighting lambda(t) = g(t)^2, in the units of eps: a uniform
# weight over lambda. Sampling lambda uniformly makes it the plain eps-MSE.
import math

import torch
from difflearn import GaussianMixture, NoiseScheduleVP
from difflearn.samplers.rk45 import pf_ode_coefficients
from difflearn.training import make_batch_fn
from difflearn.training.parameterisations import dlambda_dt, parameterised_loss

ns = NoiseScheduleVP("linear", dtype=torch.float64)
# 1. g^2 / sigma^2 = beta(t) / sigma_t^2 = -2 d lambda / dt for the VP SDE
for t in (0.01, 0.3, 0.9):
    beta = ns.beta_0 + t * (ns.beta_1 - ns.beta_0)
    sigma = float(ns.marginals([t]).sigma[0])
    d_lam = float(dlambda_dt(ns, torch.tensor([t], dtype=torch.float64)))
    assert abs(beta / sigma**2 + 2 * d_lam) < 1e-9 * beta / sigma**2
    f, k = pf_ode_coefficients(ns, t)  # the PF-ODE drift: k = g^2 / (2 sigma)
    assert abs(k - beta / (2 * sigma)) < 1e-9 * k and abs(f + beta / 2) < 1e-12

# 2. the weighted loss at the optimum, for Gaussian data N(0, s^2 I), is the I-MMSE
#    integral (1/2) ln((1 + SNR_max s^2) / (1 + SNR_min s^2)) per dimension
s, t_min, n = 0.7, 0.01, 200_000
gm = GaussianMixture([[0.0, 0.0]], s)
data = gm.sample(n, torch.Generator().manual_seed(0))
m = ns.marginals([t_min, 1.0])
snr_max, snr_min = (m.alpha / m.sigma) ** 2
expected = 0.5 * math.log((1 + snr_max * s**2) / (1 + snr_min * s**2))


def optimum(x, t):  # the Bayes-optimal eps-prediction
    return gm.eps(x, t, ns)


def uniform_t(g, n):
    return t_min + (1 - t_min) * torch.rand(n, generator=g, dtype=torch.float64)


def uniform_lambda(g, n):  # importance sampling: t = t(lambda), lambda uniform
    lam = m.lam[1] + (m.lam[0] - m.lam[1]) * torch.rand(
        n, generator=g, dtype=torch.float64
    )
    return ns.inverse_lambda(lam)


g = torch.Generator().manual_seed(1)
a = parameterised_loss(
    optimum,
    ns,
    make_batch_fn(data, ns, sample_times=uniform_t)(g, n),
    weighting="likelihood",
    reduction="none",
) * (1 - t_min)
b = parameterised_loss(
    optimum,
    ns,
    make_batch_fn(data, ns, sample_times=uniform_lambda)(g, n),
    reduction="none",
) * (m.lam[0] - m.lam[1])  # plain eps-MSE
for name, v in (("t uniform, weight -dlambda/dt", a), ("lambda uniform, eps-MSE", b)):
    se = v.std().item() / math.sqrt(n)
    print(f"{name:30s}: {v.mean().item():.4f} +- {se:.4f} (I-MMSE: {expected:.4f})")
    assert abs(v.mean().item() - expected) < 4 * se
print(f"variance ratio: {(a.var() / b.var()).item():.1f}")
assert a.var() > 3 * b.var()  # same expectation, a quarter of the variance
