"""Exercise: DDIM inversion is a first-order approximation.

Each step uses eps at the start where sampling back uses it at the end: an O(h^2) error
per step, O(h) after 1/h steps. Measured on a two-mode mixture: the slope of
log(round-trip error) against log(steps) between 20 and 160 steps.
"""

import math

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, beta_schedule, model_wrapper
from difflearn.samplers import ddim, ddim_inversion
from difflearn.schedules import time_steps

ns = NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000))
gm = GaussianMixture([[-1.0, 0.5], [1.5, -1.0]], 0.4)
fn = model_wrapper(gm.noise_fn(ns, time_input="discrete"), ns)
x0 = gm.sample(300, generator=torch.Generator().manual_seed(0))
errors = {}
for n in (20, 40, 80, 160):
    ts = time_steps(ns, "time_uniform", 1.0, 1e-3, n, dtype=torch.float64)
    back = ddim(fn, ddim_inversion(fn, x0, ns, ts.flip(0)), ns, ts)
    errors[n] = float((back - x0).norm(dim=1).mean())
slope = math.log(errors[160] / errors[20]) / math.log(8)
print({n: round(e, 5) for n, e in errors.items()}, f"slope {slope:.2f}")
assert -1.3 < slope < -0.7
