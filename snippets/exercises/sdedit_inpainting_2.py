"""Exercise: RePaint's jump back up is the forward process over j steps at once.

x_i = (a_i / a_k) x_k + sqrt(s_i^2 - (a_i / a_k)^2 s_k^2) z turns
x_k = a_k x0 + s_k eps into a sample with mean a_i x0 and variance s_i^2. Checked by
Monte Carlo for one x0, from t_k = 0.6 back up to t_i = 0.9.
"""

import math

import torch
from difflearn import NoiseScheduleVP, beta_schedule

ns = NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000))
m = ns.marginals([0.9, 0.6])
a_i, a_k = (float(v) for v in m.alpha)
s_i, s_k = (float(v) for v in m.sigma)
g = torch.Generator().manual_seed(0)
n, x0 = 400_000, 1.7
x_k = a_k * x0 + s_k * torch.randn(n, generator=g, dtype=torch.float64)
ratio = a_i / a_k
x_i = ratio * x_k + math.sqrt(s_i**2 - ratio**2 * s_k**2) * torch.randn(
    n, generator=g, dtype=torch.float64
)
print(f"mean {x_i.mean():.4f} (exact {a_i * x0:.4f}), std {x_i.std():.4f} ({s_i:.4f})")
assert abs(float(x_i.mean()) - a_i * x0) < 5 * s_i / math.sqrt(n)
assert abs(float(x_i.std()) - s_i) < 5 * s_i / math.sqrt(2 * n)
