"""Exercise: the step of consistency training.

1. Euler from x~ = x0 + s1 z to s0 with the one-sample estimate eps = (x~ - x0) / s1
   lands exactly on x0 + s0 z.
2. Averaged over x0 given x~, the estimate is the exact noise prediction (Tweedie):
   E[(x~ - x0) / sigma | x~] = eps*(x~). Checked on the mixture ring8 by weighting
   samples of x0 with the likelihood N(x~; x0, sigma^2).
"""

import torch
from difflearn import NoiseScheduleVP, beta_schedule, mixture_2d

gm = mixture_2d("ring8")
ns = NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000))
g = torch.Generator().manual_seed(0)
x0 = gm.sample(5, generator=g)
z = torch.randn(5, 2, dtype=torch.float64, generator=g)
s1, s0 = 1.3, 0.9
x1 = x0 + s1 * z
step = x1 + (s0 - s1) * (x1 - x0) / s1
assert torch.allclose(step, x0 + s0 * z, atol=1e-14)

sigma = 0.8
x_ve = torch.tensor([[1.2, 0.9]], dtype=torch.float64)
samples = gm.sample(400_000, generator=g)
logw = -((x_ve - samples) ** 2).sum(1) / (2 * sigma**2)
w = torch.softmax(logw, 0)[:, None]
mc = (w * (x_ve - samples) / sigma).sum(0)
t = ns.sigma_to_t(torch.tensor([sigma], dtype=torch.float64))
alpha = float(ns.marginals(t).alpha[0])
exact = gm.eps(alpha * x_ve, t, ns)[0]
print(f"Monte Carlo {mc.tolist()}, exact {exact.tolist()}")
assert torch.allclose(mc, exact, atol=0.02)
