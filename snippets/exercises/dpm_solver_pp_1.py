"""Exercise: DPM-Solver++(1) and DPM-Solver-1 are the same step (DDIM), written twice.

Data form: x_t = (sigma_t/sigma_s) x_s - alpha_t (e^{-h} - 1) x0_pred. Substitute
x0_pred = (x_s - sigma_s eps)/alpha_s and use e^{-h} = (sigma_t alpha_s)/(alpha_t
sigma_s): the x_s weights add to alpha_t/alpha_s and the eps weight is -sigma_t (e^h -
1), the noise form. Prediction: equal to rounding at order 1. At order 2 they differ:
one fits a line to eps, the other to x0_pred.
"""

import torch
from difflearn import (
    DPM_Solver,
    GaussianMixture,
    NoiseScheduleVP,
    model_wrapper,
    sample,
)

gm = GaussianMixture([[-2.0], [0.5], [2.5]], [0.3, 0.5, 0.2], [0.3, 0.5, 0.2])
ns = NoiseScheduleVP("linear", dtype=torch.float64)
fn = model_wrapper(gm.noise_fn(ns), ns)
x_T = torch.randn(
    256, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
run = {
    alg: {
        order: DPM_Solver(fn, ns, algorithm_type=alg).sample(
            x_T, steps=10, t_end=1e-3, order=order, skip_type="logSNR"
        )
        for order in (1, 2)
    }
    for alg in ("dpmsolver", "dpmsolver++")
}
ddim = sample(
    gm.noise_fn(ns), x_T, ns, method="ddim", steps=10, skip_type="logSNR", t_end=1e-3
)
d1 = (run["dpmsolver"][1] - run["dpmsolver++"][1]).abs().max().item()
d2 = (run["dpmsolver"][2] - run["dpmsolver++"][2]).abs().max().item()
print(f"order 1: max difference {d1:.1e}; order 2: {d2:.1e}")
assert d1 < 1e-12 and (run["dpmsolver++"][1] - ddim).abs().max().item() < 1e-12
assert d2 > 1e-6
