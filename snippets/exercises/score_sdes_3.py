"""Exercise: every kappa >= 0 gives the right marginals. Simulate kappa = 1/2.

dx = [f x - (1 + kappa^2)/2 g^2 score] dt + kappa g dw_bar, from t = 1 down to t = 0.05,
with the exact score of a 1-D mixture and Euler-Maruyama (VP: f = -beta/2, g^2 = beta).
Prediction: the samples at t = 0.05 have the exact mixture's mean and variance, up to
Monte Carlo error and an O(step) bias (1000 steps).
"""

import numpy as np
import torch
from difflearn import GaussianMixture, NoiseScheduleVP

gm = GaussianMixture([[-1.5], [1.0]], [0.3, 0.5], [0.4, 0.6])
ns = NoiseScheduleVP("linear", dtype=torch.float64)
kappa, n, steps, t_end = 0.5, 20_000, 1000, 0.05
g = torch.Generator().manual_seed(0)
ts = torch.linspace(1.0, t_end, steps + 1, dtype=torch.float64)
p_T = gm.marginal(ns, 1.0)
x = p_T.sample(n, generator=g)
for i in range(steps):
    t, dt = ts[i], (ts[i] - ts[i + 1]).item()
    beta = 0.1 + t.item() * (20.0 - 0.1)
    drift = -0.5 * beta * x - 0.5 * (1 + kappa**2) * beta * gm.score(x, t, ns)
    x = (
        x
        - drift * dt
        + kappa * np.sqrt(beta * dt) * torch.randn(x.shape, generator=g, dtype=x.dtype)
    )
p_0 = gm.marginal(ns, t_end)
w, m, v = p_0.weights.numpy(), p_0.means[:, 0].numpy(), p_0.stds.numpy() ** 2
mean = (w * m).sum()
var = (w * (v + m**2)).sum() - mean**2
xs = x[:, 0].numpy()
print(f"mean {xs.mean():.4f} (exact {mean:.4f}), var {xs.var():.4f} (exact {var:.4f})")
assert abs(xs.mean() - mean) < 5 * np.sqrt(var / n) + 0.01
assert abs(xs.var() - var) < 5 * var * np.sqrt(2 / n) + 0.02
