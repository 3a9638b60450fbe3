"""eta interpolates between DPM-Solver++ (the ODE) and the SDE; the 3M SDE solver
settles later.
"""

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, sample, time_steps
from difflearn.samplers.core import make_grid
from difflearn.samplers.dpmpp_sde import sde_dpmpp_coefficients

ns = NoiseScheduleVP("linear")
gm = GaussianMixture(
    [[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2], [0.5, 0.3, 0.2]
)
eps = gm.noise_fn(ns)

# 1. the noise std per step grows with eta, from 0 (the ODE)
#    to sigma_t sqrt(1 - e^{-2h})
t = time_steps(ns, "logSNR", 1.0, 1e-3, 10, dtype=torch.float64)
grid = make_grid(ns, t, torch.zeros(1, dtype=torch.float64))
for eta in (0.0, 0.5, 1.0):
    _, _, std = sde_dpmpp_coefficients(grid, [1] * 10, "midpoint", eta)
    print(
        f"eta = {eta}: noise std of the first three steps",
        [round(float(v), 3) for v in std[:3]],
    )
    assert (eta == 0) == all(v == 0 for v in std)

# 2. eta = 0 is the ODE solver DPM-Solver++(2M) / (3M) on the same grid
x_T = torch.randn(
    64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
for order in (2, 3):
    kw = dict(timesteps=t, order=order, lower_order_final=False)
    sde = sample(eps, x_T, ns, "sde_dpmpp_2m", eta=0.0, solver_type="heun", **kw)
    ode = sample(eps, x_T, ns, "dpmsolver++", solver_type="taylor", **kw)
    assert torch.allclose(sde, ode, rtol=1e-10, atol=1e-10)

# 3. at eta = 1, the covariance of 4000 samples against the data's, by number of steps
data_cov = torch.cov(gm.sample(200_000, torch.Generator().manual_seed(1)).T)
x = torch.randn(
    4000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2)
)
err = {}
for method in ("sde_dpmpp_2m", "sde_dpmpp_3m"):
    for steps in (50, 200):
        out = sample(
            eps,
            x,
            ns,
            method,
            steps=steps,
            denoise_to_zero=True,
            generator=torch.Generator().manual_seed(3),
        )
        err[method, steps] = (torch.cov(out.T) - data_cov).abs().max().item()
        print(f"{method}, {steps:3d} steps: covariance error {err[method, steps]:.3f}")
assert (
    err["sde_dpmpp_2m", 200] < 0.08 and err["sde_dpmpp_3m", 200] < 0.08
)  # both at the Monte Carlo floor
assert (
    err["sde_dpmpp_3m", 50] > 2 * err["sde_dpmpp_2m", 50]
)  # but 3M needs more steps to get there
