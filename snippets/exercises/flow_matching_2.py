"""Exercise: run a VP model as a rectified flow. Which RF time matches a VP time?

Same state when sigma/alpha agree: t / (1 - t) = sigma_tau / alpha_tau, i.e. t =
sigma_tau / (alpha_tau + sigma_tau) = 1 / (1 + exp(lambda_tau)), and x_RF = x_VP (1 - t)
/ alpha_tau. Then one DDIM step on the VP schedule (tau_s -> tau_t) equals one Euler
step of the rectified-flow ODE between the matching times, with v = (eps - x) / (1 - t).
"""

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, sample

ns = NoiseScheduleVP("linear", dtype=torch.float64)
gm = GaussianMixture([[-1.0], [1.5]], [0.3, 0.6])
eps = gm.noise_fn(ns)
tau = torch.tensor([0.7, 0.4], dtype=torch.float64)
alpha, sigma = ns.marginal_alpha(tau), ns.marginal_std(tau)
t_rf = sigma / (alpha + sigma)
assert torch.allclose(t_rf, 1 / (1 + torch.exp(ns.marginal_lambda(tau))), atol=1e-15)

x_vp = torch.linspace(-2, 2, 9, dtype=torch.float64)[:, None]
ddim = sample(eps, x_vp, ns, method="ddim", timesteps=tau)  # VP, one step

x_rf = x_vp * (1 - t_rf[0]) / alpha[0]  # same state, RF scale
v = (eps(x_vp, tau[:1].expand(9)) - x_rf) / (1 - t_rf[0])  # eps is scale-free
euler = x_rf + (t_rf[1] - t_rf[0]) * v
back = euler * alpha[1] / (1 - t_rf[1])  # RF -> VP scale
print(f"VP times {tau.tolist()} are RF times {[round(x, 4) for x in t_rf.tolist()]}")
assert (back - ddim).abs().max().item() < 1e-12
