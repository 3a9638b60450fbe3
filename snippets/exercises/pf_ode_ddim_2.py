"""Exercise: DDIM inversion is not exact. Predict how its round-trip error shrinks.

Encode x_0 -> x_T with N DDIM steps forward in time (DPM_Solver.inverse, order 1),
decode with N steps back. Each step freezes eps at a different end of the interval going
up and coming down, so each round trip of one step is off by O(h^2) and the whole trip
by O(h): doubling N should halve the error (ratio 2), as for DDIM's own error.
"""

import math

import torch
from difflearn import DPM_Solver, GaussianMixture, NoiseScheduleVP, model_wrapper

gm = GaussianMixture([[-1.0], [1.2]], [0.3, 0.4])
ns = NoiseScheduleVP("linear", dtype=torch.float64)
solver = DPM_Solver(model_wrapper(gm.noise_fn(ns), ns), ns, algorithm_type="dpmsolver")
t0, T = 1e-3, 1.0
x_start = gm.marginal(ns, t0).sample(256, generator=torch.Generator().manual_seed(1))

errors = []
for n in (50, 100, 200):
    z = solver.inverse(
        x_start, steps=n, t_start=t0, t_end=T, order=1, skip_type="logSNR"
    )
    back = solver.sample(z, steps=n, t_start=T, t_end=t0, order=1, skip_type="logSNR")
    errors.append((back - x_start).abs().mean().item())
ratios = [errors[i] / errors[i + 1] for i in range(2)]
print(
    "round-trip errors",
    [f"{e:.2e}" for e in errors],
    "ratios",
    [f"{r:.2f}" for r in ratios],
)
assert all(abs(math.log2(r) - 1) < 0.2 for r in ratios)
