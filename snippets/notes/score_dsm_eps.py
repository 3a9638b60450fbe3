r"""Denoising score matching targets the score, and the exact noise predictor
is -sigma_t times it.

On the exact Gaussian mixture of difflearn.data.mixture
(x_t = alpha_t x_0 + sigma_t eps, linear VP schedule):
1. the score by automatic differentiation of log p_t agrees with the closed form
   `score`;
2. E[eps | x_t], computed independently by Gaussian conditioning inside each component,
   equals `eps` and equals -sigma_t grad log p_t (exact, to 1e-10);
3. the regression target of denoising score matching: in 1-D, averages of the drawn eps
   over bins of x_t match averages of eps*(x_t) (2 000 000 seeded samples, every bin
   within 5 standard errors).
"""

import numpy as np
import torch
from difflearn.data import GaussianMixture, mixture_2d
from difflearn.schedules import NoiseScheduleVP

ns = NoiseScheduleVP("linear")
gm = mixture_2d("two")
t = torch.tensor(0.3, dtype=torch.float64)
alpha, sigma = float(ns.marginal_alpha(t)), float(ns.marginal_std(t))
g = torch.Generator().manual_seed(0)
x = gm.marginal(ns, t).sample(500, generator=g)  # x_t ~ p_t, (500, 2)

# 1. autograd score of the log-density
xg = x.clone().requires_grad_(True)
score_ad = torch.autograd.grad(gm.marginal(ns, t).log_prob(xg).sum(), xg)[0]
assert torch.allclose(score_ad, gm.score(x, t, ns), atol=1e-10)

# 2. E[eps | x_t] by conditioning, in numpy: inside component k, x_0 | x_t is Gaussian
#    with mean mu_k + alpha s_k^2 / v_k (x_t - alpha mu_k),
#    v_k = alpha^2 s_k^2 + sigma^2
xn, mu, s2, w = x.numpy(), gm.means.numpy(), gm.stds.numpy() ** 2, gm.weights.numpy()
v = alpha**2 * s2 + sigma**2  # (K,)
d = xn[:, None, :] - alpha * mu[None]  # (B, K, D)
log_r = np.log(w) - 0.5 * (d**2).sum(-1) / v - np.log(v)  # D = 2: log of v^{-D/2}
r = np.exp(log_r - log_r.max(1, keepdims=True))
r /= r.sum(1, keepdims=True)
x0_mean = (
    r[:, :, None] * (mu[None] + alpha * s2[None, :, None] / v[None, :, None] * d)
).sum(1)
eps_mean = (xn - alpha * x0_mean) / sigma
assert np.allclose(eps_mean, gm.eps(x, t, ns).numpy(), atol=1e-10)
assert np.allclose(eps_mean, -sigma * score_ad.numpy(), atol=1e-10)
print("E[eps | x_t] = eps(x_t, t) = -sigma_t * grad log p_t(x_t): exact to 1e-10")

# 3. the DSM regression target, by Monte Carlo in 1-D
gm1 = GaussianMixture([[-2.0], [1.0]], [0.4, 0.8], [0.4, 0.6])
n = 2_000_000
x0 = gm1.sample(n, generator=g)
eps = torch.randn(n, 1, generator=g, dtype=torch.float64)
xt = alpha * x0 + sigma * eps
eps_star = gm1.eps(xt, t, ns)
edges = torch.linspace(-3, 3, 25, dtype=torch.float64)
idx = torch.bucketize(xt[:, 0], edges)
z_max = 0.0
for b in range(1, len(edges)):
    m = idx == b
    diff = (eps - eps_star)[m]  # E[eps - eps*(x_t) | bin] = 0 if eps* = E[eps | x_t]
    z_max = max(z_max, float(diff.mean().abs() / (diff.std() / m.sum().sqrt())))
print(
    "binned E[eps | x_t] vs eps*(x_t): "
    f"largest |z| over {len(edges) - 1} bins = {z_max:.2f}"
)
assert z_max < 5
