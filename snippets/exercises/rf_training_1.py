"""Exercise: where does logit-normal time sampling put the noise levels?

On the straight path the half log-SNR is lambda = log((1 - t) / t) = -logit(t). With
t = sigmoid(m + s z), z ~ N(0, 1), lambda = -(m + s z) ~ N(-m, s^2): logit-normal
times are Gaussian log-SNRs. SD3's resolution shift t -> a t / (1 + (a - 1) t)
multiplies sigma / alpha = t / (1 - t) by a, so it moves every lambda down by log a.
"""

import math

import torch
from difflearn import FlowSchedule
from difflearn.schedules import shift_t
from difflearn.training.flow import sample_t_logit_normal

g = torch.Generator().manual_seed(0)
m, s, n = 0.5, 1.2, 200_000
t = sample_t_logit_normal(n, g, loc=m, scale=s)
lam = torch.from_numpy(FlowSchedule().marginals(t).lam)
print(
    f"lambda: mean {float(lam.mean()):.3f} (want {-m}), std {float(lam.std()):.3f}"
    f" (want {s})"
)
assert abs(float(lam.mean()) + m) < 5 * s / math.sqrt(n)
assert abs(float(lam.std()) - s) < 0.01
a = 3.0
shifted = torch.from_numpy(FlowSchedule().marginals(shift_t(t, a)).lam)
assert torch.allclose(shifted, lam - math.log(a), atol=1e-9)
