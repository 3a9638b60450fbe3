"""Exercise: where the noise predictions of two Gaussian classes differ.

For N(mu_k, s^2 I): eps_k(x) = sigma (x - alpha mu_k) / (alpha^2 s^2 + sigma^2), so
eps_B - eps_A = sigma alpha (mu_A - mu_B) / (alpha^2 s^2 + sigma^2): the same for every
x, non-zero exactly where the means differ. Checked against GaussianMixture.eps.
"""

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, beta_schedule

ns = NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000))
mu_a = torch.tensor([0.5, 1.0, -1.0, 0.0], dtype=torch.float64)
mu_b = torch.tensor([0.5, 1.0, 2.0, -1.5], dtype=torch.float64)
s = 0.4
gm = GaussianMixture(torch.stack([mu_a, mu_b]), s)
x = torch.randn(7, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
t = torch.full((7,), 0.5, dtype=torch.float64)
m = ns.marginals([0.5])
alpha, sigma = float(m.alpha[0]), float(m.sigma[0])
diff = gm.eps(x, t, ns, y=1) - gm.eps(x, t, ns, y=0)
closed = sigma * alpha * (mu_a - mu_b) / (alpha**2 * s**2 + sigma**2)
print("eps_B - eps_A =", [round(v, 4) for v in closed.tolist()])
assert torch.allclose(diff, closed.expand(7, 4), atol=1e-12)
assert torch.equal(closed != 0, mu_a != mu_b)
