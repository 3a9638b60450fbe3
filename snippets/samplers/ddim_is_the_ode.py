"""DDIM (eta = 0) solves the probability-flow ODE: first-order error, Euler in the EDM
view, invertible.
"""

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, sample
from difflearn.samplers import ddim, ddim_inversion, euler
from difflearn.schedules import time_steps

ns = NoiseScheduleVP("linear")
gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2])
eps = gm.noise_fn(ns)  # the exact noise prediction: no training
x_T = torch.randn(
    256, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
exact = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns)  # scipy, rtol = 1e-10

errors = [
    (sample(eps, x_T, ns, "ddim", steps=n, skip_type="logSNR") - exact)
    .norm(dim=1)
    .mean()
    for n in (25, 50)
]
print(f"DDIM error at 25 / 50 steps: {errors[0]:.4f} / {errors[1]:.4f}")
assert (
    1.8 < errors[0] / errors[1] < 2.2
)  # halving the step halves the error: first order

t = time_steps(ns, "logSNR", 1.0, 1e-3, 30, dtype=torch.float64)
assert torch.allclose(
    euler(eps, x_T, ns, t), ddim(eps, x_T, ns, t), atol=1e-12
)  # Euler in x/alpha == DDIM

fine = time_steps(ns, "logSNR", 1.0, 1e-3, 500, dtype=torch.float64)
x0 = ddim(eps, x_T, ns, fine)
back = ddim_inversion(eps, x0, ns, fine.flip(0))  # data -> noise along the same grid
print(f"inversion round trip: max error {(back - x_T).abs().max():.4f}")
assert (back - x_T).abs().max() < 0.05
