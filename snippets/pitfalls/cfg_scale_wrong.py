"""WRONG: copying the CFG paper's weight w into a `guidance_scale` argument.

The paper's eps = (1 + w) eps_c - w eps_u; diffusers and DPM-Solver use
eps = eps_u + s (eps_c - eps_u), so s = w + 1. Passing s = w guides with w - 1.
"""

import torch
from difflearn import DPM_Solver, NoiseScheduleVP, mixture_2d, model_wrapper

ns = NoiseScheduleVP("linear")
gm = mixture_2d("two")
model = gm.noise_fn(ns)  # model(x, t, y); y = -1: unconditional
B, w = 1000, 3.0  # the paper's w = 3
y, null = torch.zeros(B, dtype=torch.long), -torch.ones(B, dtype=torch.long)
model_fn = model_wrapper(
    model,
    ns,
    guidance_type="classifier-free",
    condition=y,
    unconditional_condition=null,
    guidance_scale=w,
)  # WRONG: s = w

x = torch.randn(B, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
t = torch.full((B,), 0.5, dtype=torch.float64)
eps_c, eps_u = model(x, t, y), model(x, t, null)
paper = lambda w_: (1 + w_) * eps_c - w_ * eps_u
assert torch.allclose(
    model_fn(x, t), paper(w - 1), atol=1e-12
)  # it guides with w - 1 = 2
assert (model_fn(x, t) - paper(w)).abs().max() > 0.1

# and it matters for the samples: compare with the intended s = w + 1
right_fn = model_wrapper(
    model,
    ns,
    guidance_type="classifier-free",
    condition=y,
    unconditional_condition=null,
    guidance_scale=w + 1,
)
x_wrong = DPM_Solver(model_fn, ns).sample(x, steps=20, t_end=1e-3, order=2)
x_right = DPM_Solver(right_fn, ns).sample(x, steps=20, t_end=1e-3, order=2)
shift = (x_wrong - x_right).norm(dim=1).mean().item()
print(f"mean distance between samples guided with s = w and s = w + 1: {shift:.3f}")
assert shift > 0.1
