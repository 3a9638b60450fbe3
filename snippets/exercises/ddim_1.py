"""Exercise: eta = 1 gives DDPM's posterior variance.

For a step from s to t < s, DDIM's sigma_eta(eta = 1) is (sigma_t / sigma_s) sqrt(1 -
alpha_s^2 / alpha_t^2), so sigma_eta^2 = sigma_t^2 beta / sigma_s^2 with beta = 1 -
(alpha_s / alpha_t)^2: DDPM's beta~ between the two times. Reference: Gaussian
conditioning of the forward joint of (x_t, x_s) given x_0, done with the 2x2 covariance
matrix, and a Monte Carlo run of one DDIM step with eta = 1.
"""

import numpy as np
import torch
from difflearn import GaussianMixture, NoiseScheduleVP, sample

ns = NoiseScheduleVP("linear", dtype=torch.float64)
a0 = 0.3
gm = GaussianMixture([[a0]], 0.0)  # point mass: x0_pred is exact
s, t = 0.6, 0.35
grid = torch.tensor([s, t], dtype=torch.float64)
(al_s, al_t), (si_s, si_t) = (
    ns.marginal_alpha(grid).tolist(),
    ns.marginal_std(grid).tolist(),
)

# forward joint given x_0: x_t = al_t x0 + si_t e1, x_s = (al_s/al_t) x_t + sqrt(b) e2
b = 1 - (al_s / al_t) ** 2
cov = np.array(
    [
        [si_t**2, al_s / al_t * si_t**2],
        [al_s / al_t * si_t**2, (al_s / al_t) ** 2 * si_t**2 + b],
    ]
)
assert abs(cov[1, 1] - si_s**2) < 1e-12  # the marginal of x_s is right
cond_var = cov[0, 0] - cov[0, 1] ** 2 / cov[1, 1]  # Var(x_t | x_s, x_0)

sigma_eta = si_t / si_s * np.sqrt(1 - al_s**2 / al_t**2)
print(f"sigma_eta^2 = {sigma_eta**2:.6f}, posterior variance = {cond_var:.6f}")
assert abs(sigma_eta**2 - cond_var) < 1e-12

n, x_s = 200_000, 0.8
x = sample(
    gm.noise_fn(ns),
    torch.full((n, 1), x_s, dtype=torch.float64),
    ns,
    method="ddim",
    timesteps=grid,
    eta=1.0,
    generator=torch.Generator().manual_seed(0),
)[:, 0].numpy()
cond_mean = al_t * a0 + cov[0, 1] / cov[1, 1] * (x_s - al_s * a0)
assert abs(x.mean() - cond_mean) < 5 * np.sqrt(cond_var / n)
assert abs(x.var() - cond_var) < 5 * cond_var * np.sqrt(2 / n)
