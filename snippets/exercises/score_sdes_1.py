"""Exercise: the probability-flow ODE of Gaussian data, solved by hand.

Data N(mu, s^2). In x~ = x / alpha, sigma~ = sigma / alpha the ODE is d x~/d sigma~ =
eps, and eps = sigma~ (x~ - mu) / (s^2 + sigma~^2) for this data, so d log(x~ - mu) / d
sigma~ = sigma~ / (s^2 + sigma~^2) and
    x~(sigma~) - mu = (x~_T - mu) sqrt((s^2 + sigma~^2) / (s^2 + sigma~_T^2)).
Compare with the library's scipy solve and with 200 Heun steps.
"""

import math

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, sample

mu, s = 1.2, 0.4
gm = GaussianMixture([[mu]], s)
ns = NoiseScheduleVP("linear", dtype=torch.float64)
x_T = torch.linspace(-3, 3, 7, dtype=torch.float64)[:, None]
a = ns.marginal_alpha(torch.tensor([1.0, 1e-3], dtype=torch.float64)).tolist()
sg = ns.marginal_std(torch.tensor([1.0, 1e-3], dtype=torch.float64)).tolist()
sb_T, sb_0 = sg[0] / a[0], sg[1] / a[1]
closed = a[1] * (
    mu + (x_T / a[0] - mu) * math.sqrt((s**2 + sb_0**2) / (s**2 + sb_T**2))
)

scipy_solve = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns)
heun = sample(
    gm.noise_fn(ns),
    x_T,
    ns,
    method="heun",
    steps=200,
    skip_type="time_quadratic",
    t_end=1e-3,
)
print("closed form:", closed[:, 0].numpy().round(5))
assert (scipy_solve - closed).abs().max() < 1e-8
assert (heun - closed).abs().max() < 2e-4
