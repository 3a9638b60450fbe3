"""FIXED: wrap the discrete-time model with model_wrapper, which calls it with
1000 (t - 1/N), and keep every time in [1/N, 1]."""

import torch
from difflearn import (
    GaussianMixture,
    NoiseScheduleVP,
    beta_schedule,
    model_wrapper,
    time_steps,
)
from difflearn.samplers import ddim

ns = NoiseScheduleVP(
    "discrete", betas=beta_schedule("linear", 1000), dtype=torch.float64
)
gm = GaussianMixture([[-2.0], [0.5], [2.5]], [0.3, 0.5, 0.2], [0.3, 0.5, 0.2])
model = gm.noise_fn(ns, time_input="discrete")

assert abs(ns.t_array[0, 0].item() - 1 / 1000) < 1e-9  # training step n = 0 is t = 1/N
model_fn = model_wrapper(model, ns, model_type="noise")
x_T = torch.randn(
    512, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64
)
reference = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns)
errors = {}
for N in (100, 800):
    grid = time_steps(ns, "time_uniform", 1.0, 1e-3, N, dtype=torch.float64)
    errors[N] = (ddim(model_fn, x_T, ns, grid) - reference).abs().mean().item()
print("error with model_wrapper:", errors)
assert errors[100] / errors[800] > 6  # first order: 8x the steps, ~8x less error
assert errors[800] < 3e-3
