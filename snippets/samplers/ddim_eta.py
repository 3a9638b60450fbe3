"""DDIM with eta = 1 is DDPM's ancestral sampler (fixed-small variance),
step for step.
"""

import torch
from difflearn import GaussianMixture, NoiseScheduleVP
from difflearn.samplers import ddim, ddpm
from difflearn.schedules import time_steps

ns = NoiseScheduleVP("linear")
gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2])
eps = gm.noise_fn(ns)
t = time_steps(ns, "time_uniform", 1.0, 1e-3, 50, dtype=torch.float64)
x_T = torch.randn(
    1000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)

a = ddim(eps, x_T, ns, t, eta=1.0, generator=torch.Generator().manual_seed(1))
b = ddpm(eps, x_T, ns, t, variance="small", generator=torch.Generator().manual_seed(1))
print("max |DDIM(eta=1) - DDPM|:", (a - b).abs().max().item())
assert torch.allclose(a, b, atol=1e-10)  # same noise, same samples

data = gm.sample(100_000, torch.Generator().manual_seed(2))
print("sample mean", a.mean(0).tolist(), "data mean", data.mean(0).tolist())
assert (a.mean(0) - data.mean(0)).abs().max() < 0.1
