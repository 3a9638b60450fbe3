"""Exercise: the KL term of the VAE objective in closed form.

For q = N(mu, sigma^2) and p = N(0, 1) in one dimension,
KL(q || p) = E_q[log q - log p] = (mu^2 + sigma^2 - 1 - log sigma^2) / 2, and for a
diagonal Gaussian the dimensions add up. Check DiagonalGaussian.kl against a Monte Carlo
estimate of E_q[log q(z) - log p(z)] from its own samples.
"""

import math

import torch
from difflearn.models.autoencoder import DiagonalGaussian

g = torch.Generator().manual_seed(0)
moments = torch.randn(3, 8, 2, 2, generator=g, dtype=torch.float64)  # (B, 2c, h, w)
q = DiagonalGaussian(moments)
n = 200_000
z = q.mean + q.std * torch.randn((n, *q.mean.shape), generator=g, dtype=torch.float64)


def log_normal(x, mu, var):
    return -0.5 * ((x - mu) ** 2 / var + torch.log(2 * math.pi * var))


log_ratio = log_normal(z, q.mean, q.std**2) - log_normal(z, 0.0, torch.tensor(1.0))
per_sample = log_ratio.flatten(2).sum(2)  # (n, B)
estimate, se = per_sample.mean(0), per_sample.std(0) / math.sqrt(n)
print("closed form", [round(v, 3) for v in q.kl().tolist()])
print(
    "Monte Carlo",
    [round(v, 3) for v in estimate.tolist()],
    "+-",
    round(float(se.max()), 3),
)
assert torch.all((estimate - q.kl()).abs() < 4 * se)
