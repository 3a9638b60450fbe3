"""WRONG: a discrete cosine-schedule table without the lambda clip, sampled on a logSNR
grid.

The cosine betas are capped at 0.999, so the last few steps fall off a cliff in lambda
(about -6.5 -> -9.9 at the very last step). A grid uniform in lambda then spends
several of its steps in that almost pure-noise region, and the discretisation error of
the solver grows.
"""

import torch
from difflearn import (
    DPM_Solver,
    GaussianMixture,
    NoiseScheduleVP,
    beta_schedule,
    time_steps,
)


class UnclippedSchedule(NoiseScheduleVP):
    @staticmethod
    def numerical_clip_alpha(log_alphas, clipped_lambda=-5.1):
        return log_alphas  # WRONG: keep the cliff


ns = UnclippedSchedule(
    "discrete", betas=beta_schedule("cosine", 1000), dtype=torch.float64
)
gm = GaussianMixture([[-2.0], [0.5], [2.5]], [0.3, 0.5, 0.2], [0.3, 0.5, 0.2])
x_T = torch.randn(
    512, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64
)
lambda_T = ns.marginal_lambda(torch.tensor([1.0], dtype=torch.float64)).item()
grid = time_steps(ns, "logSNR", 1.0, 1e-3, 10, dtype=torch.float64)
wasted = int(
    (ns.marginal_alpha(grid[:-1]) < 0.0066).sum()
)  # 0.0066: where the linear schedule ends
x = DPM_Solver(gm.noise_fn(ns), ns).sample(
    x_T, steps=10, t_end=1e-3, order=2, skip_type="logSNR"
)
error = (x - gm.pf_ode_solve(x_T, 1.0, 1e-3, ns)).abs().mean().item()
print(
    f"lambda_T = {lambda_T:.2f}; {wasted} of 10 steps start below alpha = 0.0066; "
    f"error {error:.3f}"
)
assert lambda_T < -9.5 and wasted >= 4 and error > 0.15
