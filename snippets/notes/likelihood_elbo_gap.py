# The DDPM bound next to the exact log-likelihood, on a 1-D mixture with the exact
# noise prediction. The gap belongs to the chain: its Gaussian steps of fixed variance.
import math

import torch
from difflearn import GaussianMixture, NoiseScheduleVP
from difflearn.likelihood import ddpm_elbo
from difflearn.schedules import betas_from_alphas_cumprod

gm = GaussianMixture([[-1.0], [0.8]], [0.3, 0.5], [0.4, 0.6])
x0 = gm.sample(4000, torch.Generator().manual_seed(0))
exact = gm.log_prob(x0).mean().item()  # E log p(x0), in nats
print(f"exact E log p(x0) = {exact:.4f} nats")
gap = {}
for n_steps in (10, 100, 1000):
    # N steps of the continuous linear VP schedule: the same SNR range for every N
    t = torch.arange(1, n_steps + 1, dtype=torch.float64) / n_steps
    log_alpha = NoiseScheduleVP("linear").marginal_log_mean_coeff(t)
    betas = betas_from_alphas_cumprod(torch.exp(2 * log_alpha))
    eps = gm.noise_fn(NoiseScheduleVP("discrete", betas=betas, dtype=torch.float64))
    for variance in ("small", "large"):  # sigma_n^2 = beta-tilde_n or beta_n
        g = torch.Generator().manual_seed(1)
        elbo = ddpm_elbo(eps, x0, betas, variance=variance, generator=g)["elbo"]
        se = elbo.std().item() / math.sqrt(len(x0))
        gap[n_steps, variance] = (exact - elbo.mean().item(), se)
        print(
            f"N = {n_steps:4d}, {variance:5s} variance: ELBO {elbo.mean().item():.4f}, "
            f"gap {exact - elbo.mean().item():.4f} +- {se:.4f}"
        )
# with sigma_n^2 = beta_n the bound closes as N grows ...
assert gap[10, "large"][0] > 4 * gap[10, "large"][1]
assert abs(gap[1000, "large"][0]) < 4 * gap[1000, "large"][1]
# ... with beta-tilde_n (exact only if x0 were known) the first steps stay too narrow
assert gap[1000, "small"][0] > 0.2 and gap[100, "small"][0] > 0.2
