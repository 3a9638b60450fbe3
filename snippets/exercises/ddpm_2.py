"""Exercise: the exact interpolation weight v of improved DDPM for Gaussian data.

Data N(0, s^2): x_t ~ N(0, v_t) with v_t = alpha_bar_t s^2 + 1 - alpha_bar_t, and the
true reverse variance is Var(x_{t-1} | x_t) = v_{t-1} beta_t / v_t. Improved DDPM writes
a variance as exp(v log beta_t + (1 - v) log beta~_t); solve for v. Prediction: 0 <= v
<= 1 at every step when s <= 1, and v > 1 when s > 1. Reference: a Monte Carlo
regression of x_{t-1} on x_t (residual variance).
"""

import numpy as np
from difflearn import alphas_cumprod_from_betas, beta_schedule

beta = beta_schedule("linear", 1000).numpy()
ab = alphas_cumprod_from_betas(beta).numpy()
ab_prev = np.r_[1.0, ab[:-1]]
beta_tilde = (1 - ab_prev) / (1 - ab) * beta


def optimal(s2):
    v = ab * s2 + 1 - ab
    v_prev = ab_prev * s2 + 1 - ab_prev
    return v_prev * beta / v


rng = np.random.default_rng(0)
n, s2 = 1_000_000, 0.5
for t in (10, 200, 900):  # 1-based step t -> index t - 1
    i = t - 1
    x0 = np.sqrt(s2) * rng.standard_normal(n)
    x_prev = np.sqrt(ab_prev[i]) * x0 + np.sqrt(1 - ab_prev[i]) * rng.standard_normal(n)
    x_t = np.sqrt(1 - beta[i]) * x_prev + np.sqrt(beta[i]) * rng.standard_normal(n)
    slope, icpt = np.polyfit(x_t, x_prev, 1)
    resid = np.var(x_prev - slope * x_t - icpt)
    se = resid * np.sqrt(2 / n)
    assert abs(resid - optimal(s2)[i]) < 5 * se, (t, resid, optimal(s2)[i])

for s2 in (0.25, 0.5, 1.0, 2.0):
    v = np.log(optimal(s2)[1:] / beta_tilde[1:]) / np.log(beta[1:] / beta_tilde[1:])
    print(f"s^2 = {s2}: v from {v.min():.3f} to {v.max():.3f}")
    if s2 <= 1:
        assert v.min() >= -1e-9 and v.max() <= 1 + 1e-9
    else:
        assert v.min() > 1
