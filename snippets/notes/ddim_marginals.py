"""DDIM's non-Markovian family keeps the DDPM marginals q(x_t | x_0), for every eta.

We walk down a 10-step sub-grid of a linear 1000-step schedule with
q_sigma(x_prev | x_t, x_0) and compare the empirical mean and variance of x_t
(given a fixed x_0) with sqrt(abar_t) x_0 and 1 - abar_t. Then we check that
eta = 1 gives exactly DDPM's posterior q(x_{t-1} | x_t, x_0).
"""

import torch
from difflearn import schedules

torch.manual_seed(0)
abar = schedules.alphas_cumprod_from_betas(
    schedules.beta_schedule("linear", 1000)
)  # float64, (1000,)
grid = schedules.discrete_timesteps(1000, 10, spacing="trailing")  # [999, 899, ..., 99]


def ddim_sigma(ab_t, ab_prev, eta):
    """sigma_t(eta) of DDIM eq. 16:
    eta * sqrt((1 - ab_prev)/(1 - ab_t)) * sqrt(1 - ab_t/ab_prev).
    """
    return eta * ((1 - ab_prev) / (1 - ab_t) * (1 - ab_t / ab_prev)) ** 0.5


def ddim_posterior(x_t, x0, ab_t, ab_prev, sigma):
    """Mean of q_sigma(x_prev | x_t, x_0) (DDIM eq. 7)."""
    k = (1 - ab_prev - sigma**2) ** 0.5 / (1 - ab_t) ** 0.5
    return ab_prev**0.5 * x0 + k * (x_t - ab_t**0.5 * x0)


n, x0 = 400_000, 1.5
for eta in (0.0, 0.5, 1.0):
    t = int(grid[0])
    x = abar[t].sqrt() * x0 + (1 - abar[t]).sqrt() * torch.randn(n, dtype=torch.float64)
    for t, s in zip(grid[:-1], grid[1:]):  # walk down: t -> s < t
        ab_t, ab_s = abar[int(t)], abar[int(s)]
        sigma = ddim_sigma(ab_t, ab_s, eta)
        x = ddim_posterior(x, x0, ab_t, ab_s, sigma) + sigma * torch.randn(
            n, dtype=torch.float64
        )
        mean_err = abs(x.mean() - ab_s.sqrt() * x0)
        var_err = abs(x.var() - (1 - ab_s))
        # Monte Carlo standard errors: sqrt(var/n) ~ 1.6e-3 and var*sqrt(2/n) ~ 2.2e-3
        assert mean_err < 8e-3 and var_err < 1e-2, (
            eta,
            int(s),
            float(mean_err),
            float(var_err),
        )

# eta = 1 on consecutive steps is DDPM's posterior (Ho et al. 2020, eq. 7), exactly
t = torch.arange(1, 1000)
ab_t, ab_prev = abar[t], abar[t - 1]
beta_t = 1 - ab_t / ab_prev
sigma = ddim_sigma(ab_t, ab_prev, 1.0)
beta_tilde = (1 - ab_prev) / (1 - ab_t) * beta_t
k = (1 - ab_prev - sigma**2).sqrt() / (1 - ab_t).sqrt()
assert torch.allclose(sigma**2, beta_tilde, rtol=1e-12, atol=0)
assert torch.allclose(
    k, (1 - beta_t).sqrt() * (1 - ab_prev) / (1 - ab_t), rtol=1e-10, atol=0
)
c = ab_prev.sqrt() - k * ab_t.sqrt()  # coefficient of x_0
assert torch.allclose(c, ab_prev.sqrt() * beta_t / (1 - ab_t), rtol=1e-8, atol=1e-12)
print("DDIM keeps q(x_t | x_0) for eta in {0, 0.5, 1}; eta = 1 is DDPM's posterior")
