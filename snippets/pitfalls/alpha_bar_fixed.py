"""FIXED: give NoiseScheduleVP the betas
(or their cumulative product abar_n = prod (1 - beta_i)).
"""

import torch
from difflearn import NoiseScheduleVP, alphas_cumprod_from_betas, beta_schedule

betas = beta_schedule("linear", 1000)
ns = NoiseScheduleVP("discrete", betas=betas, dtype=torch.float64)
ns_same = NoiseScheduleVP(
    "discrete", alphas_cumprod=alphas_cumprod_from_betas(betas), dtype=torch.float64
)
T = torch.tensor([1.0], dtype=torch.float64)
alpha_T = ns.marginal_alpha(T).item()
print(
    f"alpha_T = {alpha_T:.5f}  "
    f"(= sqrt(abar_N) = {torch.cumprod(1 - betas, 0)[-1].sqrt().item():.5f})"
)
assert (
    abs(alpha_T - torch.cumprod(1 - betas, 0)[-1].sqrt().item()) < 1e-12
    and alpha_T < 0.01
)
assert torch.allclose(ns.log_alpha_array, ns_same.log_alpha_array, rtol=1e-12)
