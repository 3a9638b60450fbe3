"""Exercise: how much noise should deterministic DDIM add? Two-point data, closed form.

Data +-1 with equal weights: E[x0 | x_n] = tanh(sqrt(ab_n) x_n / bb_n), so Var[x0 | x_n]
= 1 - tanh^2(...), and for the family member nu = 0 (deterministic DDIM) Sigma* = c^2 E
Var[x0 | x_n], c = sqrt(ab_m) - k sqrt(ab_n), k = sqrt(bb_m / bb_n). The expectation is
a 1-D integral over q_n (Gauss-Hermite, 200 nodes per component). Reference: Monte Carlo
of the definition E (x_m - mu*(x_n))^2 over forward draws. The bounds nu^2 <= Sigma* <=
nu^2 + c^2 bb_n / ab_n hold, and Sigma* is far from 0.
"""

import numpy as np
from difflearn import alphas_cumprod_from_betas, beta_schedule
from scipy.special import roots_hermitenorm

ab = alphas_cumprod_from_betas(beta_schedule("linear", 1000)).numpy()
bb = 1 - ab
z, wz = roots_hermitenorm(200)
wz = wz / wz.sum()
rng = np.random.default_rng(0)
for n, m in ((600, 500), (300, 200), (100, 50)):
    k = np.sqrt(bb[m] / bb[n])
    c = np.sqrt(ab[m]) - k * np.sqrt(ab[n])
    xn = np.sqrt(ab[n]) + np.sqrt(bb[n]) * z  # x_n | x0 = +1 (symmetric)
    e_var = (wz * (1 - np.tanh(np.sqrt(ab[n]) * xn / bb[n]) ** 2)).sum()
    sigma_star = c**2 * e_var

    N = 1_000_000
    x0 = rng.choice([-1.0, 1.0], N)
    eps = rng.standard_normal(N)
    x_n = np.sqrt(ab[n]) * x0 + np.sqrt(bb[n]) * eps
    x_m = np.sqrt(ab[m]) * x0 + k * (x_n - np.sqrt(ab[n]) * x0)
    mu = np.sqrt(ab[m]) * np.tanh(np.sqrt(ab[n]) * x_n / bb[n])
    mu += k * (x_n - np.sqrt(ab[n]) * np.tanh(np.sqrt(ab[n]) * x_n / bb[n]))
    r2 = (x_m - mu) ** 2
    print(
        f"n={n}, m={m}: Sigma* = {sigma_star:.5f}, Monte Carlo {r2.mean():.5f}, "
        f"upper bound {c**2 * bb[n] / ab[n]:.5f}"
    )
    assert abs(r2.mean() - sigma_star) < 5 * r2.std() / np.sqrt(N)
    assert 0 < sigma_star <= c**2 * bb[n] / ab[n]
