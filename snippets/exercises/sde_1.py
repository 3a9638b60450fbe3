"""Exercise: the bias of the signal-to-noise step rule, in closed form.

Target N(0, v I) in d dimensions: g = -x / v. The corrector step is x' = x + eps g +
sqrt(2 eps) z with eps = 2 (r |z| / |g|)^2 (norms averaged over the batch). In high
dimension |z|^2 ~ d and |g|^2 ~ d V / v^2, where V is the current variance, so eps = 2
r^2 v^2 / V. The variance then maps to V' = (1 - eps/v)^2 V + 2 eps, whose fixed point
is V = v (1 + r^2): 2.6 % too wide at r = 0.16, 25 % at r = 0.5. (At r = 1 the map stops
contracting.) Check by running the rule, written as in difflearn's corrector.
"""

import torch

d, batch, v = 1000, 128, 0.5
g = torch.Generator().manual_seed(0)
norm = lambda a: a.norm(dim=1).mean()  # noqa: E731, as in the code
for r in (0.16, 0.5):
    x = torch.randn(batch, d, generator=g, dtype=torch.float64) * v**0.5  # start exact
    for _ in range(150):
        grad = -x / v
        z = torch.randn(batch, d, generator=g, dtype=torch.float64)
        step = 2.0 * (r * norm(z) / norm(grad)) ** 2
        x = x + step * grad + torch.sqrt(2.0 * step) * z
    V = x.var().item()
    print(f"r = {r}: variance {V:.4f}, predicted v (1 + r^2) = {v * (1 + r * r):.4f}")
    assert abs(V / (v * (1 + r * r)) - 1) < 0.01
