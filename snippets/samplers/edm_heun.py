"""Heun (EDM) is second order but pays two model calls per step; churn keeps the
distribution.
"""

import math

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, sample

ns = NoiseScheduleVP("linear")
gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2])
eps = gm.noise_fn(ns)
x_T = torch.randn(
    64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
exact = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns)


def err(method, steps):
    return (
        (sample(eps, x_T, ns, method, steps=steps, skip_type="karras") - exact)
        .norm(dim=1)
        .mean()
        .item()
    )


slope = math.log2(err("heun", 40) / err("heun", 80))
print(f"Heun measured order {slope:.2f}")
assert abs(slope - 2) < 0.3
assert err("heun", 25) < err("euler", 50)  # same 50 model calls: second order wins

x = torch.randn(
    4000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
)
out = sample(
    eps,
    x,
    ns,
    "euler",
    steps=100,
    s_churn=40.0,
    generator=torch.Generator().manual_seed(2),
    denoise_to_zero=True,
)
data = gm.sample(100_000, torch.Generator().manual_seed(3))
print("churned Euler mean", out.mean(0).tolist(), "data", data.mean(0).tolist())
assert (out.mean(0) - data.mean(0)).abs().max() < 0.08  # 4 Monte Carlo standard errors
