# Measured convergence orders of DPM-Solver on the exact mixture
# (reference: a DOP853 solve).
import math

import torch
from difflearn import DPM_Solver, GaussianMixture, NoiseScheduleVP, model_wrapper

gm = GaussianMixture(
    [[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.8, 0.9, 0.7], [0.5, 0.3, 0.2]
)
ns = NoiseScheduleVP("linear", dtype=torch.float64)
x_T = torch.randn(
    32, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
reference = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns, rtol=1e-12, atol=1e-12)
model_fn = model_wrapper(gm.noise_fn(ns), ns)


def measured_order(method, order, n, d2_weight=0.5):
    solver = DPM_Solver(model_fn, ns, algorithm_type="dpmsolver++")
    solver.multistep_d2_weight = d2_weight
    err = [
        (
            solver.sample(
                x_T,
                steps=k,
                t_end=1e-3,
                order=order,
                method=method,
                skip_type="logSNR",
                lower_order_final=False,
            )
            - reference
        )
        .abs()
        .max()
        .item()
        for k in (n, 2 * n)
    ]
    return math.log2(err[0] / err[1])


orders = {
    "multistep, order 1 (DDIM)": (measured_order("multistep", 1, 50), 1),
    "multistep, order 2 (2M)": (measured_order("multistep", 2, 50), 2),
    "singlestep, order 3 (3S)": (measured_order("singlestep_fixed", 3, 120), 3),
    "multistep, order 3, official weights (3M)": (
        measured_order("multistep", 3, 100),
        2,
    ),
    "multistep, order 3, Taylor weights": (
        measured_order("multistep", 3, 100, d2_weight=1.0),
        3,
    ),
}
for name, (measured, expected) in orders.items():
    print(f"{name:45s} measured {measured:.2f}, expected {expected}")
    assert abs(measured - expected) < 0.3
