"""Exercise: the marginals do not depend on nu, the joint does.

Given x_0, in the DDIM family x_{t-1} = sqrt(ab_{t-1}) x0 + k_t (x_t - sqrt(ab_t) x0) +
nu_t z, so Corr(x_{t-1}, x_t | x_0) = k_t sqrt(1 - ab_t) / sqrt(1 - ab_{t-1}). Predict
it for eta = 0 (nu = 0: exactly 1, x_{t-1} is a function of x_t) and eta = 1 (DDPM:
sqrt(alpha_t (1 - ab_{t-1}) / (1 - ab_t))). Reference: chains simulated from the
definition.
"""

import numpy as np
from difflearn import alphas_cumprod_from_betas, beta_schedule

ab = alphas_cumprod_from_betas(beta_schedule("linear", 1000)).numpy()
taus = np.arange(99, 1000, 100)  # a 10-step sub-grid (0-based indices)
rng = np.random.default_rng(1)
n, x0 = 400_000, 0.5
i, j = taus[4], taus[3]  # the step from tau_5 to tau_4
for eta in (0.0, 1.0):
    x = np.sqrt(ab[taus[-1]]) * x0 + np.sqrt(1 - ab[taus[-1]]) * rng.standard_normal(n)
    for hi, lo in zip(taus[::-1][:-1], taus[::-1][1:]):
        nu = eta * np.sqrt((1 - ab[lo]) / (1 - ab[hi]) * (1 - ab[hi] / ab[lo]))
        k = np.sqrt(1 - ab[lo] - nu**2) / np.sqrt(1 - ab[hi])
        x_new = (
            np.sqrt(ab[lo]) * x0
            + k * (x - np.sqrt(ab[hi]) * x0)
            + nu * rng.standard_normal(n)
        )
        if (hi, lo) == (i, j):
            corr, k_ij = np.corrcoef(x, x_new)[0, 1], k
        x = x_new
    predicted = k_ij * np.sqrt(1 - ab[i]) / np.sqrt(1 - ab[j])
    if eta == 1.0:
        ddpm = np.sqrt(ab[i] / ab[j] * (1 - ab[j]) / (1 - ab[i]))
        assert abs(predicted - ddpm) < 1e-12
    print(f"eta = {eta}: corr {corr:.4f}, predicted {predicted:.4f}")
    assert abs(corr - predicted) < 5 * (1 - predicted**2) / np.sqrt(n) + 1e-9
assert abs(corr - 1) > 0.01  # eta = 1 really is less correlated
