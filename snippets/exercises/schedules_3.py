"""Exercise: the speed of the clock, d lambda / dt = -beta(t) / (2 sigma_t^2) (VP SDE).

lambda = log alpha - log(1 - alpha^2) / 2, so d lambda / dt = (d log alpha / dt) /
sigma^2, and d log alpha / dt = -beta(t) / 2. The clock runs fast where sigma_t is small
(t near 0).
"""

import torch
from difflearn import NoiseScheduleVP

ns = NoiseScheduleVP("linear", dtype=torch.float64)
t = torch.linspace(1e-3, 1.0, 200, dtype=torch.float64, requires_grad=True)
(dlam,) = torch.autograd.grad(
    ns.marginal_lambda(t).sum(), t
)  # autograd through the code
t = t.detach()
beta = 0.1 + t * (20.0 - 0.1)
sigma2 = ns.marginal_std(t) ** 2
closed = -beta / (2 * sigma2)
print(
    f"d lambda/dt: {closed[0].item():.1f} at t = 1e-3, {closed[-1].item():.2f} at t = 1"
)
assert torch.allclose(dlam, closed, rtol=1e-10)
