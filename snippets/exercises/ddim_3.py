"""Exercise: one DDIM step is exact on point-mass data, however long the step.

For data x_0 = a, eps(x, t) = (x~ - a) / sigma~ in x~ = x / alpha, sigma~ = sigma /
alpha, so along the ODE x~ - a is proportional to sigma~: the slope is constant in
sigma~ and the Euler step (= DDIM) is exact. With two points the slope bends and one
step is not enough. Reference: GaussianMixture.pf_ode_solve (scipy DOP853, tolerance
1e-10).
"""

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, sample

ns = NoiseScheduleVP("linear", dtype=torch.float64)
x_T = torch.randn(
    1000, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64
)
for name, gm in (
    ("point mass", GaussianMixture([[0.4]], 0.0)),
    ("two points", GaussianMixture([[-1.0], [1.0]], 0.0)),
):
    one_step = sample(gm.noise_fn(ns), x_T, ns, method="ddim", steps=1, t_end=1e-3)
    exact = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns)
    err = (one_step - exact).abs().max().item()
    print(f"{name}: max error of one DDIM step {err:.2e}")
    assert err < 1e-8 if name == "point mass" else err > 0.1
