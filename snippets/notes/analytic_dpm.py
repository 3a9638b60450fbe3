"""Analytic-DPM's optimal reverse variance, checked on an exact 1-D Gaussian mixture.

For the reverse step n -> s (s < n) of the DDIM family with variance lambda^2
(Bao et al. 2022, Theorem 1, written for a step that may skip):

    sigma*^2 = lambda^2 + (sqrt(abar_s bbar_n / abar_n) - sqrt(bbar_s - lambda^2))^2
                          (1 - bbar_n Gamma_n),
    Gamma_n  = E ||grad log q_n(x_n)||^2 / d,         bbar = 1 - abar.

References: (1) lambda^2 + c^2 E Var[x_0 | x_n] from the mixture's Gaussian posteriors,
by quadrature; (2) Monte Carlo of the definition (mean squared residual of x_s around
the optimal mean); (3) the limits Gaussian data -> beta_n and
point mass -> beta_tilde_n.
"""

import numpy as np
import torch
from difflearn import schedules
from difflearn.data import GaussianMixture

betas = schedules.beta_schedule("linear", 1000)  # float64
abar = schedules.alphas_cumprod_from_betas(betas).numpy()
ns = schedules.NoiseScheduleVP("discrete", betas=betas, dtype=torch.float64)
gm = GaussianMixture([[-2.0], [0.5], [2.5]], [0.3, 0.5, 0.2], [0.3, 0.5, 0.2])
mu, s_k, w = gm.means[:, 0].numpy(), gm.stds.numpy(), gm.weights.numpy()
x = np.linspace(-12, 12, 48_001)  # quadrature grid
dx = x[1] - x[0]


def t_of(n):
    """Continuous time of (0-based) training step n: t_n = (n + 1) / N."""
    return torch.tensor((n + 1) / 1000)


def coef_c(n, s, lam2):
    """Coefficient of x_0 in the mean of q(x_s | x_n, x_0) once x_n's share is
    removed.
    """
    k = np.sqrt(1 - abar[s] - lam2) / np.sqrt(1 - abar[n])
    return np.sqrt(abar[s]) - k * np.sqrt(abar[n]), k


def optimal_variance(n, s, Gamma, lam2):
    bn, bs = 1 - abar[n], 1 - abar[s]
    return lam2 + (np.sqrt(abar[s] * bn / abar[n]) - np.sqrt(bs - lam2)) ** 2 * (
        1 - bn * Gamma
    )


def reference_variance(n, s, lam2):
    """lambda^2 + c^2 E Var[x_0 | x_n] with Var[x_0 | x_n] of the mixture, integrated
    on the grid.
    """
    a, b = np.sqrt(abar[n]), 1 - abar[n]
    v = a**2 * s_k**2 + b  # (K,) variances of x_n | k
    dens = (
        w * np.exp(-0.5 * (x[:, None] - a * mu) ** 2 / v) / np.sqrt(2 * np.pi * v)
    )  # (G, K)
    q = dens.sum(1)
    r = dens / q[:, None]  # p(k | x_n)
    m = mu + a * s_k**2 / v * (x[:, None] - a * mu)  # E[x_0 | x_n, k]
    var_x0 = (r * (s_k**2 * b / v + m**2)).sum(1) - (r * m).sum(1) ** 2
    return lam2 + coef_c(n, s, lam2)[0] ** 2 * (q * var_x0).sum() * dx


def Gamma_of(n):
    """E ||score||^2 / d under q_n, by quadrature with the exact score of
    difflearn.data.mixture.
    """
    xt = torch.from_numpy(x)[:, None]
    score = gm.score(xt, t_of(n), ns)[:, 0].numpy()
    return (np.exp(gm.marginal(ns, t_of(n)).log_prob(xt).numpy()) * score**2).sum() * dx


def beta_tilde(n, s):
    return (1 - abar[s]) / (1 - abar[n]) * (1 - abar[n] / abar[s])


# (1) DDPM steps (lambda^2 = beta_tilde) and DDIM skips (lambda^2 = 0):
#     formula == posterior variance
for n, s, lam2 in [
    (5, 4, beta_tilde(5, 4)),
    (50, 49, beta_tilde(50, 49)),
    (500, 499, beta_tilde(500, 499)),
    (300, 200, 0.0),
    (100, 0, 0.0),
]:
    analytic = optimal_variance(n, s, Gamma_of(n), lam2)
    reference = reference_variance(n, s, lam2)
    assert abs(analytic / reference - 1) < 1e-6, (n, s, analytic, reference)
    assert lam2 < analytic, (n, s, lam2, analytic)  # never below lambda^2
    print(
        f"{n:3d} -> {s:3d}  lambda^2={lam2:.4e}  sigma*^2={analytic:.4e}  "
        f"beta={1 - abar[n] / abar[s]:.4e}"
    )

# (2) Monte Carlo of the definition on the DDIM skip 300 -> 200 (lambda = 0)
g = torch.Generator().manual_seed(0)
n, s, lam2, m = 300, 200, 0.0, 400_000
c, k = coef_c(n, s, lam2)
(x0,) = gm.sample(m, generator=g).T
eps = torch.randn(m, generator=g, dtype=torch.float64)
xn = np.sqrt(abar[n]) * x0 + np.sqrt(1 - abar[n]) * eps
x_s = np.sqrt(abar[s]) * x0 + k * (
    xn - np.sqrt(abar[n]) * x0
)  # q(x_s | x_n, x_0), lambda = 0


def mean_with(x0_hat):
    return np.sqrt(abar[s]) * x0_hat + k * (xn - np.sqrt(abar[n]) * x0_hat)


mc = ((x_s - mean_with(gm.x0(xn[:, None], t_of(n), ns)[:, 0])) ** 2).mean().item()
exact = reference_variance(n, s, lam2)
assert abs(mc / exact - 1) < 0.02, (mc, exact)  # MC standard error ~0.5%

# Extended Analytic-DPM: with an imperfect mean (eps_hat = 0.7 eps*) the best
# variance is lambda^2 + c^2 (bbar_n / abar_n) E (eps - eps_hat)^2 - the
# noise-prediction-residual form (with lambda = 0 the residual is c (x_0 - x0_hat)
# sample by sample, so this is exact)
eps_hat = 0.7 * gm.eps(xn[:, None], t_of(n), ns)[:, 0]
x0_bad = (xn - np.sqrt(1 - abar[n]) * eps_hat) / np.sqrt(abar[n])
npr = lam2 + c**2 * (1 - abar[n]) / abar[n] * ((eps - eps_hat) ** 2).mean().item()
mc_bad = ((x_s - mean_with(x0_bad)) ** 2).mean().item()
assert abs(mc_bad / npr - 1) < 1e-9  # an identity, sample by sample
assert mc_bad > 1.03 * exact, (mc_bad, exact)  # the analytic value is now too small
print(f"MC {mc:.4e} vs exact {exact:.4e}; imperfect mean needs {mc_bad:.4e}")

# (3) limits: Gaussian data (Gamma = 1) -> beta_n;
#     a point mass (Gamma = 1 / bbar_n) -> beta_tilde_n
n = np.arange(1, 1000)
lam2 = beta_tilde(n, n - 1)
assert np.allclose(
    optimal_variance(n, n - 1, 1.0, lam2), 1 - abar[n] / abar[n - 1], rtol=1e-9
)
assert np.allclose(optimal_variance(n, n - 1, 1 / (1 - abar[n]), lam2), lam2, rtol=1e-9)
