"""FIXED: drop the steps with lambda < -5.1, as NoiseScheduleVP
(like the official DPM-Solver) does.
"""

import torch
from difflearn import (
    DPM_Solver,
    GaussianMixture,
    NoiseScheduleVP,
    beta_schedule,
    time_steps,
)

ns = NoiseScheduleVP(
    "discrete", betas=beta_schedule("cosine", 1000), dtype=torch.float64
)
gm = GaussianMixture([[-2.0], [0.5], [2.5]], [0.3, 0.5, 0.2], [0.3, 0.5, 0.2])
x_T = torch.randn(
    512, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64
)
t_end = ns.time_domain()[0]  # 1/996: the first step of the kept table
lambda_T = ns.marginal_lambda(torch.tensor([1.0], dtype=torch.float64)).item()
grid = time_steps(ns, "logSNR", 1.0, t_end, 10, dtype=torch.float64)
wasted = int((ns.marginal_alpha(grid[:-1]) < 0.0066).sum())
x = DPM_Solver(gm.noise_fn(ns), ns).sample(
    x_T, steps=10, t_end=t_end, order=2, skip_type="logSNR"
)
error = (x - gm.pf_ode_solve(x_T, 1.0, t_end, ns)).abs().mean().item()
print(
    f"kept {ns.total_N} of 1000 steps; lambda_T = {lambda_T:.2f}; "
    f"{wasted} wasted step(s);",
    f"error {error:.3f}",
)
assert ns.total_N == 996 and lambda_T > -5.1 and wasted <= 1 and error < 0.1

# side effect, as in the official code: the kept table has 996 entries, so step n sits
# at t = (n + 1) / 996, while model_wrapper still calls a discrete model with
# 1000 (t - 1/996). At the top of the table (step 995) the model is told 999.0: labels
# are stretched by 1000/996.
from difflearn.model_wrapper import model_input_time  # noqa: E402

assert (
    abs(model_input_time(ns, torch.tensor([1.0], dtype=torch.float64)).item() - 999.0)
    < 0.01
)
