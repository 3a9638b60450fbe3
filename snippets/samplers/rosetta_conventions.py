"""The three conversions behind the Rosetta table,
each checked against its definition.
"""

import numpy as np
import torch
from difflearn import NoiseScheduleVP, discrete_timesteps, time_steps

# 1. diffusers' integer timestep tau is our continuous time t = (tau + 1) / N
betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
alphas_cumprod = torch.cumprod(1 - betas, 0)  # diffusers' table, computed here
ns = NoiseScheduleVP("discrete", betas=betas, dtype=torch.float64)
tau = torch.as_tensor(discrete_timesteps(1000, 10, "trailing").copy()).long()
print("diffusers timesteps:", tau.tolist())
t = (tau + 1).double() / 1000
assert torch.allclose(
    ns.marginal_alpha(t) ** 2, alphas_cumprod[tau], rtol=1e-6
)  # table times are float32, as in the official code

# 2. k-diffusion's sigma is our sigma~ = sigma_t / alpha_t, and its x is our x / alpha_t
sigma_k = ((1 - alphas_cumprod[tau]) / alphas_cumprod[tau]).sqrt()
assert torch.allclose(ns.marginal_std(t) / ns.marginal_alpha(t), sigma_k, rtol=1e-6)

# 3. skip_type="karras" is EDM's eq. 5: uniform in sigma~^(1/rho), rho = 7
grid = time_steps(ns, "karras", 1.0, 1e-3, 12, dtype=torch.float64)
sig = (ns.marginal_std(grid) / ns.marginal_alpha(grid)).numpy()
ramp = np.linspace(0, 1, 13)
edm = (sig[0] ** (1 / 7) + ramp * (sig[-1] ** (1 / 7) - sig[0] ** (1 / 7))) ** 7
print("karras grid sigma~:", np.round(sig, 3))
assert np.allclose(sig, edm, rtol=1e-8)
