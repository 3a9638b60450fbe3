"""Inpainting and SDEdit on a two-mode Gaussian mixture, where the answers are exact.

Modes at (-2, -2) and (2, 2), std 0.3. Given x1 = 2 the exact conditional of x2 is the
second mode, N(2, 0.3^2): the first mode's weight is exp(-88) smaller.
1. Both replacement and RePaint keep x1 exactly.
2. Replacement (r = 1) is biased: part of its samples land in the wrong mode.
3. RePaint (r = 5) samples the right mode, with the exact mean within Monte Carlo error.
4. SDEdit: a small strength keeps the guide; strength 1 forgets it (both modes, 50/50).
"""

import math

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, beta_schedule, model_wrapper
from difflearn.editing import repaint, sdedit, sdedit_timesteps
from difflearn.schedules import time_steps

ns = NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000))
gm = GaussianMixture([[-2.0, -2.0], [2.0, 2.0]], 0.3)
eps = model_wrapper(gm.noise_fn(ns, time_input="discrete"), ns)
n = 1000
x_known = torch.tensor([[2.0, 0.0]], dtype=torch.float64).expand(n, 2).clone()
mask = torch.tensor([1.0, 0.0], dtype=torch.float64)  # x1 known, x2 generated
grid = time_steps(ns, "time_uniform", 1.0, 1e-3, 50, dtype=torch.float64)
out = {}
for r in (1, 5):
    g = torch.Generator().manual_seed(0)
    out[r] = repaint(eps, x_known, mask, ns, grid, resamplings=r, generator=g)
    assert torch.equal(out[r][:, 0], x_known[:, 0])  # 1. the known part is kept
    wrong = float((out[r][:, 1] < 0).double().mean())
    print(f"r = {r}: x2 mean {out[r][:, 1].mean():.3f}, wrong mode {wrong:.3f}")
se = 0.3 / math.sqrt(n)
assert float(out[1][:, 1].mean()) < 2 - 10 * se  # 2. replacement is biased
assert abs(float(out[5][:, 1].mean()) - 2) < 5 * se  # 3. RePaint is not
assert bool((out[5][:, 1] > 0).all())

# 4. SDEdit's two limits, from a guide between the modes
guide = torch.tensor([[0.5, -0.5]], dtype=torch.float64).expand(n, 2).clone()
near = sdedit(eps, guide, ns, sdedit_timesteps(ns, 0.01, 2), generator=g)
far = sdedit(eps, guide, ns, sdedit_timesteps(ns, 1.0, 50), generator=g)
moved = float((near - guide).norm(dim=1).mean())
upper = float((far[:, 0] > 0).double().mean())
print(f"SDEdit: s = 0.01 moves the guide by {moved:.3f}; s = 1: {upper:.2f} upper mode")
assert moved < 0.2 and abs(upper - 0.5) < 4 * 0.5 / math.sqrt(n)
