"""Exercise: ancestral DDPM on point-mass data. Which variance is exact?

With data x_0 = a, the exact noise prediction makes x0_pred = a exactly, so one step
from s to t < s is x_t = c0 a + c1 x_s + nu z with the posterior coefficients c1 =
(alpha_s / alpha_t) sigma_t^2 / sigma_s^2, c0 = alpha_t beta / sigma_s^2, beta = 1 -
(alpha_s / alpha_t)^2, and nu^2 = sigma_t^2 beta / sigma_s^2 (small) or beta (large).
Mean and variance follow a linear recursion: fixed-small keeps Var = sigma_t^2 exactly
once it holds; fixed-large over-disperses. Reference: 200,000 samples of
difflearn.sample(..., method="ddpm") on a 10-step grid.
"""

import numpy as np
import torch
from difflearn import GaussianMixture, NoiseScheduleVP, sample, time_steps

a = 0.7
gm = GaussianMixture([[a]], 0.0)  # a point mass, exact eps
ns = NoiseScheduleVP("linear", dtype=torch.float64)
grid = time_steps(ns, "time_uniform", 1.0, 1e-3, 10, dtype=torch.float64)
alpha = ns.marginal_alpha(grid).numpy()
sigma = ns.marginal_std(grid).numpy()

g = torch.Generator().manual_seed(0)
x_T = torch.randn(200_000, 1, generator=g, dtype=torch.float64)
for variance in ("small", "large"):
    m, var = 0.0, 1.0  # x_T ~ N(0, 1)
    for i in range(10):
        a_s, a_t, s_s, s_t = alpha[i], alpha[i + 1], sigma[i], sigma[i + 1]
        beta = 1 - (a_s / a_t) ** 2
        c1, c0 = (a_s / a_t) * s_t**2 / s_s**2, a_t * beta / s_s**2
        nu2 = s_t**2 * beta / s_s**2 if variance == "small" else beta
        m, var = c0 * a + c1 * m, c1**2 * var + nu2
    x = sample(
        gm.noise_fn(ns),
        x_T,
        ns,
        method="ddpm",
        timesteps=grid,
        variance=variance,
        generator=g,
    )[:, 0].numpy()
    n = len(x)
    print(
        f"{variance}: std predicted {np.sqrt(var):.5f}, sampled {x.std():.5f}, "
        f"sigma_t_end = {sigma[-1]:.5f}"
    )
    assert abs(x.mean() - m) < 5 * np.sqrt(var / n)
    assert abs(x.var() - var) < 5 * var * np.sqrt(2 / n)
    if variance == "small":
        assert abs(np.sqrt(var) / sigma[-1] - 1) < 1e-3
    else:
        assert np.sqrt(var) > 2 * sigma[-1]
