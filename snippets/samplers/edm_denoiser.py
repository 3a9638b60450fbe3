"""The EDM view: D(x~; sigma~) = x~ - sigma~ eps is the posterior mean E[x_0 | x_t], and
churn(0) is DDIM.
"""

import numpy as np
import torch
from difflearn import GaussianMixture, NoiseScheduleVP
from difflearn.samplers import ddim, euler, heun
from difflearn.schedules import time_steps
from scipy.stats import multivariate_normal

ns = NoiseScheduleVP("linear")
means, stds, weights = (
    np.array([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]]),
    np.array([0.3, 0.5, 0.2]),
    [0.5, 0.3, 0.2],
)
gm = GaussianMixture(means, stds, weights)
eps = gm.noise_fn(ns)

t = torch.full((500,), 0.4, dtype=torch.float64)
alpha, sigma = float(ns.marginal_alpha(t[:1])), float(ns.marginal_std(t[:1]))
x_t = gm.marginal(ns, t[0]).sample(500, torch.Generator().manual_seed(0))
x_tilde, sigma_tilde = x_t / alpha, sigma / alpha  # EDM variables
D = (
    x_tilde - sigma_tilde * eps(x_t, t)
).numpy()  # the denoiser, from the noise prediction

# independent: Bayes by hand. Component k:
# x_t ~ N(alpha mu_k, (alpha^2 s_k^2 + sigma^2) I), and
# E[x_0 | x_t, k] = mu_k + alpha s_k^2 / (alpha^2 s_k^2 + sigma^2) (x_t - alpha mu_k)
x = x_t.numpy()
var = alpha**2 * stds**2 + sigma**2
lik = np.stack(
    [
        w * multivariate_normal(alpha * m, v * np.eye(2)).pdf(x)
        for w, m, v in zip(weights, means, var)
    ],
    1,
)
resp = lik / lik.sum(1, keepdims=True)  # p(k | x_t)
post = np.stack(
    [m + alpha * s**2 / v * (x - alpha * m) for m, s, v in zip(means, stds, var)], 1
)
posterior_mean = (resp[:, :, None] * post).sum(1)
print("max |D - E[x0 | x_t]|:", np.abs(D - posterior_mean).max())
assert np.allclose(D, posterior_mean, atol=1e-10)

# Euler with zero churn is DDIM; Heun calls the model twice per step,
# plus once for the step to 0
grid = time_steps(ns, "karras", 1.0, 1e-3, 12, dtype=torch.float64)
x_T = torch.randn(
    64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
)
assert torch.allclose(
    euler(eps, x_T, ns, grid, s_churn=0.0), ddim(eps, x_T, ns, grid), atol=1e-12
)
calls = []
heun(lambda x, t: calls.append(t) or eps(x, t), x_T, ns, grid, denoise_to_zero=True)
assert len(calls) == 2 * 12 + 1
