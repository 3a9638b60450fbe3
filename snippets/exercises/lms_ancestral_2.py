"""Exercise: "Euler a" is exact on point-mass data, for every eta.

Data x_0 = a: x~_i = a + sigma~_i z, and eps = (x~ - a) / sigma~ = z exactly. The Euler
step to sigma_down gives a + sigma_down z; adding sigma_up z' gives noise of variance
sigma_down^2 + sigma_up^2 = sigma~_{i+1}^2. So every step lands on the exact marginal,
whatever eta and however long the step. Check: std of x_t = sigma_t after a few large
steps.
"""

import numpy as np
import torch
from difflearn import GaussianMixture, NoiseScheduleVP, sample, time_steps

a0 = -0.4
gm = GaussianMixture([[a0]], 0.0)
ns = NoiseScheduleVP("linear", dtype=torch.float64)
grid = time_steps(ns, "logSNR", 1.0, 0.02, 4, dtype=torch.float64)
a_end, s_end = ns.marginal_alpha(grid[-1:]).item(), ns.marginal_std(grid[-1:]).item()
n = 200_000
g = torch.Generator().manual_seed(0)
x_T = gm.marginal(ns, 1.0).sample(n, generator=g)
for eta in (0.0, 0.5, 1.0):
    x = sample(
        gm.noise_fn(ns), x_T, ns, method="ddim", timesteps=grid, eta=eta, generator=g
    )[:, 0].numpy()
    print(
        f"eta = {eta}: mean {x.mean():.5f} (exact {a_end * a0:.5f}), "
        f"std {x.std():.5f} (exact {s_end:.5f})"
    )
    assert abs(x.mean() - a_end * a0) < 5 * s_end / np.sqrt(n)
    assert abs(x.var() - s_end**2) < 5 * s_end**2 * np.sqrt(2 / n)
