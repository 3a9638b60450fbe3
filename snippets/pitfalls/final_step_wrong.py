"""WRONG: stopping at the last grid time t_0 = 1/N and returning x_{t_0} as the sample.

At t_0 the data still carry noise of standard deviation sigma_{t_0} = 0.01 (linear DDPM
schedule). For data sharper than that - here three modes of width 0.002, like quantised
pixel levels - the leftover noise is the dominant error.
"""

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, beta_schedule, time_steps
from difflearn.samplers import ddim

ns = NoiseScheduleVP(
    "discrete", betas=beta_schedule("linear", 1000), dtype=torch.float64
)
gm = GaussianMixture([[-1.0], [0.0], [1.0]], 0.002)
x_T = torch.randn(
    2000, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64
)
grid = time_steps(ns, "time_uniform", 1.0, 1e-3, 200, dtype=torch.float64)
x = ddim(gm.noise_fn(ns), x_T, ns, grid)  # WRONG: ends at x_{t_0}
rms = (x - x.round()).pow(2).mean().sqrt().item()  # distance to the nearest mode
sigma_0 = ns.marginal_std(grid[-1:]).item()
print(
    f"rms distance to the nearest mode {rms:.4f} "
    f"(data width 0.002, sigma_t0 = {sigma_0:.4f})"
)
assert (
    rms > 4 * 0.002 and abs(rms - sigma_0) < 0.1 * sigma_0
)  # the error is the leftover noise
