"""Ancestral samplers: the noise split, the link to DDIM, the eta = 0 limit,
the distribution.
"""

import numpy as np
import torch
from difflearn import DPM_Solver, GaussianMixture, NoiseScheduleVP, sample, time_steps
from difflearn.samplers.ancestral import ancestral_levels
from difflearn.samplers.ddim import ddim_coefficients

ns = NoiseScheduleVP("linear")
gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2])
eps = gm.noise_fn(ns)

# 1. sigma_down^2 + sigma_up^2 = sigma~_(i+1)^2,
#    and sigma_up is DDIM's sigma_eta / alpha_(i+1)
t = time_steps(ns, "karras", 1.0, 1e-3, 10, dtype=torch.float64)
alpha, sigma = ns.marginal_alpha(t).numpy(), ns.marginal_std(t).numpy()
sig = sigma / alpha
for eta in (0.3, 1.0):
    down, up = ancestral_levels(sig, eta)
    assert np.allclose(down**2 + up**2, sig[1:] ** 2, rtol=1e-12)
    _, _, s_eta = ddim_coefficients(alpha, sigma, eta)
    assert np.allclose(up, np.asarray(s_eta) / alpha[1:], rtol=1e-10)
print(
    "eta = 1, first steps: sigma_down",
    np.round(down[:3], 2),
    "sigma_up",
    np.round(up[:3], 2),
)

# 2. eta = 0: no noise, and the samplers are the singlestep DPM-Solver-2 / ++(2S)
#    with r1 = 1/2 (for dpmpp_2s_sde, "DPM++ SDE", both stages lose their noise)
x_T = torch.randn(
    64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
grid = time_steps(ns, "logSNR", 1.0, 1e-3, 8, dtype=torch.float64)
for method, algorithm in (
    ("dpm2_ancestral", "dpmsolver"),
    ("dpmpp_2s_ancestral", "dpmsolver++"),
    ("dpmpp_2s_sde", "dpmsolver++"),
):
    ours = sample(eps, x_T, ns, method, timesteps=grid, eta=0.0)
    ref = DPM_Solver(eps, ns, algorithm_type=algorithm).sample(
        x_T,
        steps=16,
        order=2,
        method="singlestep_fixed",
        skip_type="logSNR",
        t_end=1e-3,
    )
    assert torch.allclose(ours, ref, rtol=1e-10, atol=1e-10)

# 3. eta = 1: every sample path differs from the ODE's,
#    but the distribution is the data's
data = gm.sample(200_000, torch.Generator().manual_seed(1))
x = torch.randn(
    4000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2)
)
for method in (
    "ddim",
    "dpm2_ancestral",
    "dpmpp_2s_ancestral",
    "dpmpp_2s_sde",
):  # ddim, eta = 1: "Euler a"
    out = sample(
        eps,
        x,
        ns,
        method,
        steps=50,
        skip_type="karras",
        eta=1.0,
        denoise_to_zero=True,
        generator=torch.Generator().manual_seed(3),
    )
    err = max(
        (out.mean(0) - data.mean(0)).abs().max().item(),
        (out.std(0) - data.std(0)).abs().max().item(),
    )
    print(f"{method:>18}, eta = 1, 50 steps: moment error {err:.3f}")
    assert err < 0.06  # Monte Carlo noise of 4000 samples is about 0.02
