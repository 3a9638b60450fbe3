"""Map a diffusers DDIM setup (v-prediction, trailing spacing, final alpha_cumprod = 1)
onto difflearn.

The model is exact (a 1-D Gaussian mixture) and speaks diffusers' language: an integer
timestep n in 0..999 and a v-prediction output. diffusers' DDIMScheduler is the
reference.
"""

import torch
from difflearn import (
    GaussianMixture,
    NoiseScheduleVP,
    discrete_timesteps,
    model_wrapper,
)
from difflearn.samplers import ddim
from diffusers import DDIMScheduler

scheduler = DDIMScheduler(
    beta_schedule="linear",
    prediction_type="v_prediction",
    timestep_spacing="trailing",
    set_alpha_to_one=True,
    clip_sample=False,
)
scheduler.set_timesteps(10)
ns = NoiseScheduleVP(
    "discrete", alphas_cumprod=scheduler.alphas_cumprod.double(), dtype=torch.float64
)
gm = GaussianMixture([[-2.0], [0.5], [2.5]], [0.3, 0.5, 0.2], [0.3, 0.5, 0.2])


def unet(x, n):
    """A diffusers-style model: integer timestep n, returns v = alpha eps - sigma x0
    (Salimans & Ho).
    """
    t = (
        ((torch.as_tensor(n, dtype=torch.float64) + 1) / 1000)
        .reshape(-1)
        .expand(x.shape[0])
    )  # (B,)
    alpha, sigma = ns.marginal_alpha(t)[:, None], ns.marginal_std(t)[:, None]  # (B, 1)
    eps = gm.eps(x, t, ns)
    return alpha * eps - sigma * (x - sigma * eps) / alpha


x_T = torch.randn(
    256, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64
)

# diffusers: the scheduler loop
x = x_T.clone()
for n in scheduler.timesteps:
    x = scheduler.step(unet(x, n), n, x).prev_sample
x_diffusers = x

# difflearn: the same grid in continuous time, the model wrapped once
steps = discrete_timesteps(1000, 10, spacing="trailing")
assert (torch.as_tensor(steps) == scheduler.timesteps).all()  # 999, 899, ..., 99
grid = torch.tensor((steps + 1) / 1000, dtype=torch.float64)  # t_n = (n + 1) / N
model_fn = model_wrapper(unet, ns, model_type="v")  # calls unet with 1000 (t - 1/N) = n
x_difflearn = ddim(
    model_fn, x_T, ns, grid, eta=0.0, denoise_to_zero=True
)  # last step to abar = 1

print("max |diffusers - difflearn| =", (x_diffusers - x_difflearn).abs().max().item())
assert torch.allclose(x_diffusers, x_difflearn, atol=1e-5)
