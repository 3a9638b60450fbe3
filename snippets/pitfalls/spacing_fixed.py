"""FIXED: 'trailing' spacing starts at the last training step (Lin et al., 2024)."""

import numpy as np
import torch
from difflearn import (
    GaussianMixture,
    NoiseScheduleVP,
    beta_schedule,
    discrete_timesteps,
)
from difflearn.samplers import ddim

ns = NoiseScheduleVP(
    "discrete", betas=beta_schedule("cosine", 1000), dtype=torch.float64
)
gm = GaussianMixture([[3.0]], 1.0)
steps = discrete_timesteps(1000, 10, spacing="trailing")  # 999, 899, ..., 99
assert steps[0] == 999
n = np.minimum(steps, ns.total_N - 1)  # the clipped table ends at step 995
t = torch.tensor(
    np.append(n + 1, 1) / ns.total_N, dtype=torch.float64
)  # t_n = (n + 1) / N, then 1/N
x_T = torch.randn(
    20_000, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64
)
x = ddim(gm.noise_fn(ns), x_T, ns, t, denoise_to_zero=True)
print(f"start step {steps[0]}; sample mean {x.mean().item():.3f} (data: 3)")
assert abs(x.mean().item() - 3) < 0.05
