"""A learn_sigma model outputs 2C channels: the noise and
the variance interpolation v.
"""

import torch
from difflearn import beta_schedule
from difflearn.models import eps_only, learned_log_variance, split_learned_sigma

betas = beta_schedule("linear", 1000)
out = torch.randn(
    4, 6, 8, 8
)  # what a learn_sigma=True model returns for 3-channel images
eps, v = split_learned_sigma(out, channels=3)
assert eps.shape == v.shape == (4, 3, 8, 8)

t = torch.tensor([1, 10, 100, 999])
# v = +1 gives log beta_t (the upper bound),
# v = -1 the posterior variance log beta~_t (the lower one)
upper = learned_log_variance(torch.ones(4, 1, 1, 1), t, betas).flatten()
lower = learned_log_variance(-torch.ones(4, 1, 1, 1), t, betas).flatten()
abar = torch.cumprod(1 - betas, 0)
beta_tilde = betas[t] * (1 - abar[t - 1]) / (1 - abar[t])
assert torch.allclose(upper.double(), betas[t].log().double(), rtol=1e-6)
assert torch.allclose(lower.double(), beta_tilde.log(), rtol=1e-6)
assert (lower < upper).all()

# for an ODE solver, keep the noise channels only
model_fn = eps_only(lambda x, t: torch.cat([x, -x], dim=1), channels=3)
assert model_fn(eps, t).shape == (4, 3, 8, 8)
