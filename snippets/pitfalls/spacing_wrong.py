"""WRONG: 'leading' timestep spacing with few steps
(DDIM's original choice, diffusers' default).

With 10 of 1000 steps, 'leading' visits 900, 800, ..., 0: sampling starts at step 900,
where the cosine schedule still keeps sqrt(abar) = 0.15 of the signal, from pure noise
N(0, I). The data's mean is lost in proportion: data with mean 3 come out with
mean ~2.55.
"""

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
gm = GaussianMixture([[3.0]], 1.0)  # data N(3, 1)
steps = discrete_timesteps(1000, 10, spacing="leading")  # WRONG for few steps
assert steps[0] == 900
t = torch.tensor(
    (steps + 1) / ns.total_N, dtype=torch.float64
)  # t_n = (n + 1) / N; ends at 1/N
# (N = ns.total_N = 996: the cosine table keeps the steps with lambda >= -5.1,
# see the next pitfall)
x_T = torch.randn(
    20_000, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64
)
x = ddim(gm.noise_fn(ns), x_T, ns, t, denoise_to_zero=True)
alpha_start = ns.marginal_alpha(t[:1]).item()
print(
    f"start step {steps[0]}, alpha there {alpha_start:.3f}; "
    f"sample mean {x.mean().item():.3f} (data: 3)"
)
assert (
    abs(alpha_start - 0.1537) < 1e-3 and x.mean().item() < 3 - 0.4
)  # mean short by ~ 3 alpha_start
