r"""The DDPM variational bound and its reduction to a noise-prediction MSE.

1. For any predicted noise eps_theta, the KL term
   L_{t-1} = KL(q(x_{t-1}|x_t,x_0) || p_theta(x_{t-1}|x_t))
   with p_theta = N(mu_theta, sigma_t^2 I) equals a constant plus
       beta_t^2 / (2 sigma_t^2 alpha_t (1 - abar_t)) * ||eps - eps_theta||^2
   (Ho et al., 2020, eq. 12), checked exactly with torch.distributions.kl_divergence;
   for sigma_t^2 = beta_tilde_t the weight equals
   (SNR_{t-1} - SNR_t) / 2 * (1 - abar_t) / abar_t (Kingma et al., 2021).
2. On a 5-step 1-D chain with a linear-Gaussian model, the decomposition
   ELBO = -KL(q(x_T|x_0)||p(x_T)) - sum_t E KL(...) + E log p(x_0|x_1), computed in
   closed form, equals a Monte Carlo estimate of
   E_q[log p(x_{0:T}) - log q(x_{1:T}|x_0)] (5 standard errors), and lies below the
   exact log-likelihood log p(x_0).
"""

import numpy as np
import torch
from difflearn.schedules import alphas_cumprod_from_betas, beta_schedule
from torch.distributions import Normal, kl_divergence

# ---- 1. KL between the posterior and the model step = weighted noise MSE -------------
betas = beta_schedule("linear", 1000)
abar = alphas_cumprod_from_betas(betas)
g = torch.Generator().manual_seed(0)
D = 16
for t in (2, 50, 500, 1000):  # 1-based
    b, ab, ab_prev = betas[t - 1], abar[t - 1], abar[t - 2]
    a = 1 - b
    x0, eps, eps_theta = (
        torch.randn(D, generator=g, dtype=torch.float64) for _ in range(3)
    )
    xt = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
    mean_from = lambda e, xt=xt, b=b, ab=ab, a=a: (
        (xt - b / (1 - ab).sqrt() * e) / a.sqrt()
    )
    post = Normal(mean_from(eps), ((1 - ab_prev) / (1 - ab) * b).sqrt())
    for sigma2 in (b, (1 - ab_prev) / (1 - ab) * b):  # fixed-large and fixed-small
        model = Normal(mean_from(eps_theta), sigma2.sqrt())
        perfect = Normal(mean_from(eps), sigma2.sqrt())
        kl_excess = (
            kl_divergence(post, model).sum() - kl_divergence(post, perfect).sum()
        )
        weight = b**2 / (2 * sigma2 * a * (1 - ab))
        assert abs(kl_excess - weight * ((eps - eps_theta) ** 2).sum()) < 1e-9 * (
            1 + kl_excess
        )
    # with sigma^2 = beta_tilde the weight is half the SNR drop, converted from
    # x0-error to eps-error units
    snr = lambda x: x / (1 - x)
    w_small = b**2 / (2 * (1 - ab_prev) / (1 - ab) * b * a * (1 - ab))
    assert (
        abs(w_small - 0.5 * (snr(ab_prev) - snr(ab)) * (1 - ab) / ab) < 1e-9 * w_small
    )
print(
    "KL(q || p_theta) - KL(q || p_eps) = "
    "beta^2 / (2 sigma^2 alpha (1 - abar)) ||eps - eps_theta||^2: exact"
)

# ---- 2. the bound on a small chain, in closed form and by Monte Carlo ----------------
beta = np.array([0.05, 0.1, 0.2, 0.3, 0.4])  # beta_1 .. beta_5
T = len(beta)
alpha = 1 - beta
ab = np.cumprod(alpha)
ab_prev = np.concatenate([[1.0], ab[:-1]])
# the model p(x_{t-1} | x_t) = N(a_t x_t, v_t): an imperfect guess
a_model = 0.9 / np.sqrt(alpha)
v_model = beta.copy()
x0 = 0.8


def log_n(x, m, v):
    return -0.5 * np.log(2 * np.pi * v) - 0.5 * (x - m) ** 2 / v


def kl_gauss(m1, v1, m2, v2):
    return 0.5 * (np.log(v2 / v1) + (v1 + (m1 - m2) ** 2) / v2 - 1)


# closed form. q(x_t | x_0) = N(sqrt(ab_t) x0, 1 - ab_t); the posterior mean
# c0 x0 + c1 x_t is linear in x_t, so
# E_{x_t}[(c0 x0 + (c1 - a) x_t)^2] = (c0 x0 + (c1 - a) m_t)^2 + (c1 - a)^2 s_t^2.
elbo = -kl_gauss(np.sqrt(ab[-1]) * x0, 1 - ab[-1], 0.0, 1.0)  # L_T
for t in range(2, T + 1):  # L_{t-1}
    i = t - 1
    c0 = np.sqrt(ab_prev[i]) * beta[i] / (1 - ab[i])
    c1 = np.sqrt(alpha[i]) * (1 - ab_prev[i]) / (1 - ab[i])
    var_post = (1 - ab_prev[i]) / (1 - ab[i]) * beta[i]
    m_t, s2_t = np.sqrt(ab[i]) * x0, 1 - ab[i]
    e_sq = (c0 * x0 + (c1 - a_model[i]) * m_t) ** 2 + (c1 - a_model[i]) ** 2 * s2_t
    elbo -= 0.5 * (np.log(v_model[i] / var_post) + (var_post + e_sq) / v_model[i] - 1)
m1, s2_1 = np.sqrt(ab[0]) * x0, 1 - ab[0]  # L_0 = -E log p(x0 | x1)
elbo += -0.5 * np.log(2 * np.pi * v_model[0]) - (
    (x0 - a_model[0] * m1) ** 2 + a_model[0] ** 2 * s2_1
) / (2 * v_model[0])

# Monte Carlo: sample the forward chain x_1..x_T from x_0 and average the log ratio
rng = np.random.default_rng(0)
n = 400_000
xs = [np.full(n, x0)]
for i in range(T):
    xs.append(np.sqrt(alpha[i]) * xs[-1] + np.sqrt(beta[i]) * rng.standard_normal(n))
log_ratio = log_n(xs[T], 0.0, 1.0)
for i in range(T):
    log_ratio += log_n(
        xs[i], a_model[i] * xs[i + 1], v_model[i]
    )  # log p(x_{t-1} | x_t)
    log_ratio -= log_n(
        xs[i + 1], np.sqrt(alpha[i]) * xs[i], beta[i]
    )  # log q(x_t | x_{t-1})
se = log_ratio.std() / np.sqrt(n)

# exact log-likelihood of the linear-Gaussian model: x_0 ~ N(0, V_0)
V = 1.0
for i in reversed(range(T)):
    V = a_model[i] ** 2 * V + v_model[i]
log_p = log_n(x0, 0.0, V)
print(
    f"ELBO closed form {elbo:.5f}, Monte Carlo {log_ratio.mean():.5f} +- {se:.5f}; "
    f"log p(x0) = {log_p:.5f}"
)
assert abs(log_ratio.mean() - elbo) < 5 * se
assert elbo < log_p
