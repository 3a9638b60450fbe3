# One network, four heads: the exact mixture's eps, x0, v and score predictions are one
# model, and the MSE of each head is the eps-MSE times the head's weight over lambda.
import torch
from difflearn import GaussianMixture, NoiseScheduleVP
from difflearn.training.parameterisations import (
    PREDICTIONS,
    eps_weight,
    head_target,
    head_to_eps,
    head_to_x0,
)

gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2])
ns = NoiseScheduleVP("linear", dtype=torch.float64)
g = torch.Generator().manual_seed(0)
x0 = gm.sample(1000, g)
eps = torch.randn(x0.shape, generator=g, dtype=torch.float64)
t = 0.02 + 0.96 * torch.rand(1000, generator=g, dtype=torch.float64)
m = ns.marginals(t)
alpha, sigma, lam = (torch.from_numpy(v) for v in (m.alpha, m.sigma, m.lam))
x_t = alpha[:, None] * x0 + sigma[:, None] * eps

# the Bayes-optimal predictor in each head: E[target | x_t], from the exact posterior
eps_hat = gm.eps(x_t, t, ns)
x0_hat = gm.x0(x_t, t, ns)
heads = {
    "eps": eps_hat,
    "x0": x0_hat,
    "v": alpha[:, None] * eps_hat - sigma[:, None] * x0_hat,
    "score": gm.score(x_t, t, ns),
}
for p, out in heads.items():  # every head converts back to the same eps and x0
    assert torch.allclose(head_to_eps(p, out, x_t, alpha, sigma), eps_hat, atol=1e-9)
    assert torch.allclose(head_to_x0(p, out, x_t, alpha, sigma), x0_hat, atol=1e-9)

# the squared error of each head, per sample, divided by the eps error:
# x0: e^{-2 lambda}, v: 1 + e^{-2 lambda} (VP), score: 1 + e^{2 lambda} (VP)
derived = {
    "eps": lambda lam: torch.ones_like(lam),
    "x0": lambda lam: torch.exp(-2 * lam),
    "v": lambda lam: 1 + torch.exp(-2 * lam),
    "score": lambda lam: 1 + torch.exp(2 * lam),
}
err_eps = ((eps_hat - eps) ** 2).sum(1)
at = torch.tensor([-3.0, 0.0, 3.0], dtype=torch.float64)
for p in PREDICTIONS:
    err = ((heads[p] - head_target(p, x0, eps, alpha, sigma)) ** 2).sum(1)
    assert torch.allclose(err / err_eps, derived[p](lam), rtol=1e-8)
    assert torch.allclose(eps_weight(p, alpha, sigma), derived[p](lam), rtol=1e-10)
    w = ", ".join(f"{v:.3g}" for v in derived[p](at).tolist())
    print(f"{p:5s} head: weight over eps error at lambda = -3, 0, 3: {w}")
