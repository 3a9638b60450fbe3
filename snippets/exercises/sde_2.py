"""Exercise: eta = 0 turns SDE-DPM-Solver++(2M) into the ODE solver DPM-Solver++(2M).

With eta, every 2h in the SDE step becomes (1 + eta) h and the noise sd is sigma_t
sqrt(1 - exp(-2 eta h)). At eta = 0: the factor of x_s is sigma_t/sigma_s, the noise
vanishes, and the x0_pred weights are those of DPM-Solver++(2M). Prediction: equal to
rounding on the same grid; at eta = 1 the samples differ. One trap: the SDE sampler's
lower_order_final lowers its last step always, DPM-Solver++'s only below 10 steps, so
turn it off here.
"""

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, sample, time_steps

gm = GaussianMixture([[-2.0], [0.5], [2.5]], [0.3, 0.5, 0.2], [0.3, 0.5, 0.2])
ns = NoiseScheduleVP("linear", dtype=torch.float64)
grid = time_steps(ns, "logSNR", 1.0, 1e-3, 12, dtype=torch.float64)
x_T = torch.randn(
    512, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
eps = gm.noise_fn(ns)
ode = sample(eps, x_T, ns, method="dpmsolver++", timesteps=grid, order=2)
sde0, sde1 = (
    sample(
        eps,
        x_T,
        ns,
        method="sde_dpmpp_2m",
        timesteps=grid,
        eta=eta,
        solver_type="midpoint",
        lower_order_final=False,
        generator=torch.Generator().manual_seed(1),
    )
    for eta in (0.0, 1.0)
)
d0, d1 = (sde0 - ode).abs().max().item(), (sde1 - ode).abs().max().item()
print(f"eta = 0: max difference {d0:.1e}; eta = 1: {d1:.2f}")
assert d0 < 1e-12 and d1 > 0.1
