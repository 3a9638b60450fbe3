"""Exercise: a consistency model with c_out = 1 - c_skip is the noise predictor
c_out * eps_hat.

f = c_skip x + c_out (x - sigma eps) = (c_skip + c_out) x - c_out sigma eps, so
(x - f) / sigma = c_out eps + (1 - c_skip - c_out) x / sigma: the extra term vanishes
only when c_skip + c_out = 1. Checked with a random network, and with Song et al.'s own
c_out = sigma_d (sigma - sigma_min) / sqrt(sigma^2 + sigma_d^2), whose sum with c_skip
is not 1.
"""

import torch
from difflearn import NoiseScheduleVP, beta_schedule, model_wrapper
from difflearn.fewstep import consistency_coefficients, consistency_function
from difflearn.models import ToyMLP

ns = NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000))
torch.manual_seed(0)
net = ToyMLP(2, 32, 1, 16).double()
eps_fn = model_wrapper(net, ns, model_type="v")
sigma_min, sd = 0.01, 0.5
f = consistency_function(eps_fn, ns, sigma_min, sd)
x = torch.randn(8, 2, dtype=torch.float64)
for sigma in (0.05, 1.0, 30.0):
    t = ns.sigma_to_t(torch.tensor([sigma], dtype=torch.float64))
    alpha = float(ns.marginals(t).alpha[0])
    with torch.no_grad():
        eps = eps_fn(alpha * x, t.expand(8))
        implied = (x - f(x, sigma)) / sigma
    c_skip, c_out = consistency_coefficients(sigma, sigma_min, sd)
    assert torch.allclose(implied, c_out * eps, atol=1e-9)
    song_out = sd * (sigma - sigma_min) / (sigma**2 + sd**2) ** 0.5
    extra = (1 - c_skip - song_out) * x / sigma  # what Song et al.'s c_out would add
    print(
        f"sigma {sigma:g}: c_skip + c_out = {c_skip + c_out:.3f}; with Song et al.'s "
        f"c_out {c_skip + song_out:.3f}, extra |term| {float(extra.abs().mean()):.3f}"
    )
    assert abs(c_skip + c_out - 1) < 1e-12
