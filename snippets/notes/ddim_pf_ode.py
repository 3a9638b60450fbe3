"""Deterministic DDIM is DPM-Solver-1, and both converge to the probability-flow ODE at
first order.

The data are a 1-D Gaussian mixture, so the noise predictor is exact and the reference
solution of the PF-ODE comes from a high-accuracy scipy solve
(GaussianMixture.pf_ode_solve).
"""

import torch
from difflearn import DPM_Solver, GaussianMixture, NoiseScheduleVP, time_steps
from difflearn.samplers import ddim

ns = NoiseScheduleVP("linear")
gm = GaussianMixture([[-2.0], [0.5], [2.5]], [0.3, 0.5, 0.2], [0.3, 0.5, 0.2])
model_fn = gm.noise_fn(ns)  # exact eps(x, t), continuous time
x_T = torch.randn(
    256, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64
)
t_T, t_0 = 1.0, 1e-3
reference = gm.pf_ode_solve(x_T, t_T, t_0, ns)  # scipy DOP853, rtol = atol = 1e-10

errors = []
for N in (25, 50, 100, 200):
    grid = time_steps(ns, "time_uniform", t_T, t_0, N, dtype=torch.float64)
    x_ddim = ddim(model_fn, x_T, ns, grid, eta=0.0)
    solver = DPM_Solver(model_fn, ns, algorithm_type="dpmsolver")
    x_dpm1 = solver.sample(
        x_T,
        steps=N,
        t_start=t_T,
        t_end=t_0,
        order=1,
        skip_type="time_uniform",
        method="singlestep",
    )
    assert (x_ddim - x_dpm1).abs().max() < 1e-10  # the same update, up to rounding
    errors.append((x_ddim - reference).abs().mean().item())
    print(f"N = {N:3d}   mean |DDIM - PF-ODE| = {errors[-1]:.3e}")

ratios = [a / b for a, b in zip(errors, errors[1:])]
assert all(1.7 < r < 2.3 for r in ratios), ratios  # first order: error ~ 1/N
assert errors[-1] < 0.02
