"""Exercise: one DDIM step on Gaussian data, predicted on paper.

Data N(0, s^2): in x~ = x / alpha, eps(x~, sigma~) = sigma~ x~ / (s^2 + sigma~^2). One
DDIM (Euler) step from s to t multiplies x~ by
    1 - (sigma~_s - sigma~_t) sigma~_s / (s^2 + sigma~_s^2),
while the exact ODE multiplies it by sqrt((s^2 + sigma~_t^2) / (s^2 + sigma~_s^2)).
Prediction: the two agree to first order in the step and DDIM shrinks too much (its
factor is smaller: the square root is concave). Check against
difflearn.sample(method="ddim").
"""

import math

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, sample

s2 = 0.3
gm = GaussianMixture([[0.0]], math.sqrt(s2))
ns = NoiseScheduleVP("linear", dtype=torch.float64)
x_s = torch.linspace(-2, 2, 5, dtype=torch.float64)[:, None]
for s, t in ((0.5, 0.45), (0.5, 0.3), (0.5, 0.1)):
    grid = torch.tensor([s, t], dtype=torch.float64)
    (a_s, a_t), (g_s, g_t) = (
        ns.marginal_alpha(grid).tolist(),
        ns.marginal_std(grid).tolist(),
    )
    sb_s, sb_t = g_s / a_s, g_t / a_t
    ddim_factor = 1 - (sb_s - sb_t) * sb_s / (s2 + sb_s**2)
    exact_factor = math.sqrt((s2 + sb_t**2) / (s2 + sb_s**2))
    out = sample(gm.noise_fn(ns), x_s, ns, method="ddim", timesteps=grid)
    predicted = a_t * ddim_factor * x_s / a_s
    print(f"{s} -> {t}: DDIM factor {ddim_factor:.5f}, exact {exact_factor:.5f}")
    assert (out - predicted).abs().max().item() < 1e-12
    assert ddim_factor < exact_factor
