"""FIXED: finish with the data prediction x0_hat(x_{t_0}) - `denoise_to_zero=True` in
difflearn and DPM-Solver, `set_alpha_to_one=True` (final alpha_cumprod = 1) in
diffusers' DDIM."""

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, beta_schedule, time_steps
from difflearn.samplers import ddim

ns = NoiseScheduleVP(
    "discrete", betas=beta_schedule("linear", 1000), dtype=torch.float64
)
gm = GaussianMixture([[-1.0], [0.0], [1.0]], 0.002)
x_T = torch.randn(
    2000, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64
)
grid = time_steps(ns, "time_uniform", 1.0, 1e-3, 200, dtype=torch.float64)
x = ddim(gm.noise_fn(ns), x_T, ns, grid, denoise_to_zero=True)
rms = (x - x.round()).pow(2).mean().sqrt().item()
print(f"rms distance to the nearest mode {rms:.5f} (data width 0.002)")
assert rms < 0.002
