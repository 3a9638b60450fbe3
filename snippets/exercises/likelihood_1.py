"""Exercise: the ODE likelihood of Gaussian data, in closed form.

For data N(mu, s^2 I) every marginal is N(alpha_t mu, v_t I) with v_t = alpha_t^2 s^2 +
sigma_t^2, and the probability-flow ODE is the linear map that rescales one into the
other: x_T - alpha_T mu = sqrt(v_T / v_0) (x_0 - alpha_0 mu). Its log-determinant is
(D / 2) log(v_T / v_0), the same for every x: that is the integral of the divergence.
Reference: these closed forms; the library integrates the divergence numerically.
"""

import math

import torch
from difflearn import GaussianMixture, NoiseScheduleVP
from difflearn.likelihood import pf_ode_log_likelihood

mu, s, D, t0 = torch.tensor([0.5, -1.0], dtype=torch.float64), 0.6, 2, 1e-3
gm = GaussianMixture(mu[None], s)
ns = NoiseScheduleVP("linear", dtype=torch.float64)
m = ns.marginals([t0, 1.0])
v0, vT = (m.alpha * s) ** 2 + m.sigma**2
x = gm.sample(8, torch.Generator().manual_seed(0))
r = pf_ode_log_likelihood(gm.noise_fn(ns), x, ns, t_start=t0, rtol=1e-9, atol=1e-9)

predicted = 0.5 * D * math.log(vT / v0)
print(
    f"integral of the divergence: {r.delta_log_p[0].item():.6f} "
    f"(predicted (D/2) log(v_T/v_0) = {predicted:.6f}), for every x"
)
assert (r.delta_log_p - predicted).abs().max() < 1e-6
x_T = m.alpha[1] * mu + math.sqrt(vT / v0) * (x - m.alpha[0] * mu)
assert (r.x_T - x_T).abs().max() < 1e-6
