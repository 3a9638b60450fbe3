"""Exercise: how far from zero is the prior term L_T = KL(q(x_T | x_0) || N(0, I))?

Per dimension, with a = alpha_bar_T and pixel value x:
    KL = (a x^2 + (1 - a) - 1 - log(1 - a)) / 2  ~  a x^2 / 2 + a^2 / 4   for small a.
For an image, sum over its pixels. The reference is torch.distributions' own KL.
"""

import math

import torch
from difflearn import alphas_cumprod_from_betas, beta_schedule
from torch.distributions import Normal, kl_divergence

x0 = (
    torch.rand(
        3, 64, 64, generator=torch.Generator().manual_seed(0), dtype=torch.float64
    )
    * 2
    - 1
)  # pixels in [-1, 1]
for name in ("linear", "cosine", "scaled_linear"):
    a = alphas_cumprod_from_betas(beta_schedule(name, 1000))[-1].item()
    ours = (0.5 * (a * x0**2 - a - math.log1p(-a))).sum().item()
    ref = (
        kl_divergence(
            Normal(math.sqrt(a) * x0, math.sqrt(1 - a)),
            Normal(torch.zeros_like(x0), 1.0),
        )
        .sum()
        .item()
    )
    approx = (0.5 * a * x0**2).sum().item() + x0.numel() * a**2 / 4
    print(f"{name:13s} alpha_bar_T = {a:.2e}: L_T = {ours:.3e} nats per image")
    assert abs(ours - ref) <= 1e-9 * max(ref, 1e-12) + 1e-15
    assert abs(approx - ours) < 0.01 * ours
    if name == "scaled_linear":
        assert ours > 5  # Stable Diffusion's table: far from negligible
    else:
        assert ours < 0.5
