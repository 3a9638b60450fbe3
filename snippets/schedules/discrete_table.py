# A DDPM table of alphas_cumprod becomes a continuous-time schedule:
# step n sits at t = (n + 1) / N.
import torch
from difflearn import NoiseScheduleVP, alphas_cumprod_from_betas, beta_schedule

betas = beta_schedule("linear", 1000)  # Ho et al. (2020): 1e-4 ... 0.02
alphas_cumprod = alphas_cumprod_from_betas(betas)
ns = NoiseScheduleVP("discrete", betas=betas, dtype=torch.float64)

n = torch.arange(1000, dtype=torch.float64)
t_right = ns.t_array.reshape(
    -1
)  # the grid (n + 1) / N, stored as the official code stores it
assert torch.allclose(t_right, (n + 1) / 1000, atol=1e-7)
t_wrong = n / 1000  # the tempting off-by-one

# at the grid points, alpha_t^2 is exactly the table
# (alpha_t is sqrt(alphas_cumprod), not alphas_cumprod)
assert torch.allclose(ns.marginal_alpha(t_right) ** 2, alphas_cumprod, rtol=1e-12)
# the off-by-one grid reads the previous step's noise level: off by about one beta
err = (ns.marginal_alpha(t_wrong[1:]) ** 2 - alphas_cumprod[1:]).abs().max()
assert err > 1e-4
print(f"worst error of the off-by-one grid: {err:.2e} in alphas_cumprod")
