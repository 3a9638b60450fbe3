"""Exercise: LMS-2 pays only for its warm-up. Predict the error exactly.

Feed the sampler a model whose output does not depend on x and is linear in sigma~: eps
= e0 + b sigma~. The ODE d x~/d sigma~ = eps integrates to x~_N = x~_0 + e0 (sigma~_N -
sigma~_0) + b (sigma~_N^2 - sigma~_0^2) / 2. The first LMS step has no history and is
Euler, off by -b D0^2 / 2 (D0 = sigma~_1 - sigma~_0); every later step fits a line
through two exact slopes and is exact. Prediction: final error -alpha_N b D0^2 / 2.
"""

import torch
from difflearn import NoiseScheduleVP, sample, time_steps

ns = NoiseScheduleVP("linear", dtype=torch.float64)
e0, b = 0.3, -0.02


def model(x, t):
    sig = ns.marginal_std(t) / ns.marginal_alpha(t)  # sigma~(t), shape (B,)
    return (e0 + b * sig)[:, None].expand_as(x)


grid = time_steps(ns, "karras", 0.6, 1e-2, 12, dtype=torch.float64)
a, sg = ns.marginal_alpha(grid), ns.marginal_std(grid)
sb = sg / a
x_T = torch.tensor([[0.5], [-1.0]], dtype=torch.float64)
exact_tilde = x_T / a[0] + e0 * (sb[-1] - sb[0]) + b * (sb[-1] ** 2 - sb[0] ** 2) / 2
out = sample(model, x_T, ns, method="lms", timesteps=grid, order=2)
err = out - a[-1] * exact_tilde
predicted = -a[-1] * b * (sb[1] - sb[0]) ** 2 / 2
print(f"error {err[0].item():.6e}, predicted {predicted.item():.6e}")
assert torch.allclose(err, predicted.expand_as(err), rtol=1e-8, atol=1e-14)
