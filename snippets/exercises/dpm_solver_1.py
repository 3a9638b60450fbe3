"""Exercise: the error ratio when the step is halved, for DPM-Solver-2 (singlestep).

A method of order k has global error C h^k, so doubling the number of steps divides the
error by 2^k: 4 for order 2. Measure it on the exact mixture for the noise-prediction
solver (algorithm_type="dpmsolver", singlestep DPM-Solver-2, logSNR grid); reference: a
DOP853 solve.
"""

import math

import torch
from difflearn import DPM_Solver, GaussianMixture, NoiseScheduleVP, model_wrapper

gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.8, 0.9, 0.7])
ns = NoiseScheduleVP("linear", dtype=torch.float64)
x_T = torch.randn(
    32, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
exact = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns, rtol=1e-12, atol=1e-12)
solver = DPM_Solver(model_wrapper(gm.noise_fn(ns), ns), ns, algorithm_type="dpmsolver")

errors = []
for nfe in (60, 120, 240):  # 30, 60, 120 steps of two calls each
    x = solver.sample(
        x_T,
        steps=nfe,
        t_end=1e-3,
        order=2,
        method="singlestep_fixed",
        skip_type="logSNR",
    )
    errors.append((x - exact).abs().max().item())
ratios = [errors[i] / errors[i + 1] for i in range(2)]
print("errors", [f"{e:.2e}" for e in errors], "ratios", [f"{r:.2f}" for r in ratios])
assert all(abs(math.log2(r) - 2) < 0.25 for r in ratios)
