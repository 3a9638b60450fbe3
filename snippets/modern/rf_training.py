"""Rectified-flow training, checked: the velocity target is the path's derivative,
logit-normal times have the density SD3 states, and Euler on the flow ODE is DDIM on
the straight path (the flow-matching chapter's identity) for the shipped glyphs-dit."""

import math

import torch
from difflearn import FlowSchedule, model_wrapper, pretrained, sample
from difflearn.data import tokenize
from difflearn.pipeline import guided
from difflearn.samplers import flow_euler, flow_timesteps
from difflearn.training.flow import sample_t_logit_normal

g = torch.Generator().manual_seed(0)

# 1. the regression target eps - x0 is d/dt of x_t = (1 - t) x0 + t eps
x0 = torch.randn(4, 256, generator=g, dtype=torch.float64)
eps = torch.randn(4, 256, generator=g, dtype=torch.float64)
t, h = 0.3, 1e-6
path = lambda s: (1 - s) * x0 + s * eps  # noqa: E731
assert torch.allclose((path(t + h) - path(t - h)) / (2 * h), eps - x0, atol=1e-8)

# 2. t = sigmoid(z), z ~ N(0, 1): density phi(logit t) / (t (1 - t)), mean 1/2, mode 1/2
ts = sample_t_logit_normal(400_000, g)
hist = torch.histc(ts.float(), bins=20, min=0, max=1) / len(ts) * 20
mid = (torch.arange(20) + 0.5) / 20
logit = torch.log(mid / (1 - mid))
density = torch.exp(-(logit**2) / 2) / math.sqrt(2 * math.pi) / (mid * (1 - mid))
print(
    "logit-normal density, histogram vs formula, max |diff|:",
    f"{float((hist - density).abs().max()):.3f}",
)
assert float((hist - density).abs().max()) < 0.05  # the bins are 0.05 wide
assert abs(float(ts.mean()) - 0.5) < 0.003

# 3. Euler on dz/dt = v is DDIM with alpha = 1 - t, sigma = t
model, flow, card = pretrained.load("glyphs-dit")
context = model.text_encoder(tokenize(["a small red 3, rotated left"] * 4))
null = model.text_encoder(tokenize([""] * 4))
out = guided(model.denoiser, context, null, 3.0)  # the guided velocity network
z_T = torch.randn(4, 4, 8, 8, generator=g)
with torch.no_grad():
    euler = flow_euler(lambda z, t: out(z, 1000 * t), z_T, flow_timesteps(10))
    # the same from t = 0.999, where DDIM's alpha = 1 - t is not zero
    grid = flow_timesteps(10, t_start=0.999)
    eps_fn = model_wrapper(out, FlowSchedule(), model_type="flow")
    ddim = sample(eps_fn, z_T, flow, method="ddim", timesteps=grid)
    euler_same_grid = flow_euler(lambda z, t: out(z, 1000 * t), z_T, grid)
err = float((ddim - euler_same_grid).abs().max())
print(f"DDIM on FlowSchedule vs Euler, same grid: max |diff| = {err:.1e}")
assert err < 1e-4
assert torch.isfinite(euler).all()
