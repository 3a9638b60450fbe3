"""FIXED: convert the paper's w to guidance_scale = w + 1."""

import torch
from difflearn import NoiseScheduleVP, mixture_2d, model_wrapper

ns = NoiseScheduleVP("linear")
gm = mixture_2d("two")
model = gm.noise_fn(ns)
B, w = 1000, 3.0
y, null = torch.zeros(B, dtype=torch.long), -torch.ones(B, dtype=torch.long)
model_fn = model_wrapper(
    model,
    ns,
    guidance_type="classifier-free",
    condition=y,
    unconditional_condition=null,
    guidance_scale=w + 1,
)

x = torch.randn(B, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
t = torch.full((B,), 0.5, dtype=torch.float64)
eps_c, eps_u = model(x, t, y), model(x, t, null)
assert torch.allclose(model_fn(x, t), (1 + w) * eps_c - w * eps_u, atol=1e-12)

print("guidance_scale = w + 1 reproduces (1 + w) eps_c - w eps_u exactly")
