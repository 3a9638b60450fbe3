"""Exercise: which noise level does a model trained on unscaled latents see at step n?

Stable Diffusion's latents have std about 1 / 0.18215 = 5.49. Unscaled, their SNR at
step n is 5.49^2 alpha_n^2 / sigma_n^2: the half log-SNR lambda_n moves up by
log 5.49 = 1.70. Find the step n' at which unit-variance latents have that SNR, on SD's
scaled-linear schedule, with inverse_lambda.
"""

import math

import torch
from difflearn import NoiseScheduleVP, beta_schedule

ns = NoiseScheduleVP("discrete", betas=beta_schedule("scaled_linear", 1000))
sigma_z = 1 / 0.18215
for n in (250, 500, 750, 999):
    t = torch.tensor([(n + 1) / 1000], dtype=torch.float64)
    lam = ns.marginal_lambda(t) + math.log(sigma_z)  # the unscaled latents' lambda
    t_same = ns.inverse_lambda(lam)  # the time with that lambda, unit variance
    n_same = float(t_same * 1000 - 1)
    print(
        f"step {n}: unscaled latents are as noisy as scaled ones at step {n_same:.0f}"
    )
    assert n_same < n
# even the last step leaves a signal: SNR 5.49^2 alpha_T^2 / sigma_T^2
t_T = torch.tensor([1.0], dtype=torch.float64)
snr_T = sigma_z**2 * float(ns.marginal_alpha(t_T) ** 2 / ns.marginal_std(t_T) ** 2)
print(f"SNR at the last step: {snr_T:.3f} (scaled: {snr_T / sigma_z**2:.5f})")
assert snr_T > 0.1  # x_T is far from pure noise: sampling from N(0, I) is off
