"""WRONG: passing the per-step alphas (1 - beta_n) where the cumulative product abar_n
is expected.

Both arrays are decreasing and in (0, 1], so nothing complains. But 1 - beta_n stays
near 1: the "fully noised" end of the schedule keeps 99% of the signal.
"""

import torch
from difflearn import NoiseScheduleVP, beta_schedule

betas = beta_schedule("linear", 1000)
alphas = 1 - betas  # per-step alpha_n, NOT abar_n
ns = NoiseScheduleVP("discrete", alphas_cumprod=alphas, dtype=torch.float64)  # WRONG
T = torch.tensor([1.0], dtype=torch.float64)
alpha_T, sigma_T = ns.marginal_alpha(T).item(), ns.marginal_std(T).item()
print(f"signal kept at t = T: alpha_T = {alpha_T:.4f}, noise sigma_T = {sigma_T:.4f}")
assert alpha_T > 0.98 and sigma_T < 0.15  # x_T is mostly data, not noise
