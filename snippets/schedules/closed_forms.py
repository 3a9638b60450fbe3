# The continuous schedules against their closed forms.
import math

import torch
from difflearn import NoiseScheduleVP

t = torch.linspace(0.0, 1.0, 101, dtype=torch.float64)

# linear VP SDE: log alpha_t = -1/2 * integral_0^t beta(s) ds
# with beta(s) = b0 + s (b1 - b0)
b0, b1 = 0.1, 20.0
ns = NoiseScheduleVP("linear", continuous_beta_0=b0, continuous_beta_1=b1)
closed = -0.5 * (b0 * t + 0.5 * (b1 - b0) * t**2)
assert torch.allclose(ns.marginal_log_mean_coeff(t), closed, rtol=1e-14)

# cosine (Nichol & Dhariwal 2021): alpha_t^2 = f(t) / f(0),
# f(t) = cos^2((t + s)/(1 + s) * pi/2), s = 0.008
tc = t[t <= 0.9946]
s = 0.008
f = lambda u: torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2
ns = NoiseScheduleVP("cosine")
assert torch.allclose(
    ns.marginal_alpha(tc) ** 2,
    f(tc) / f(torch.zeros(1, dtype=torch.float64)),
    rtol=1e-12,
)
print(
    f"cosine schedule ends at T = {ns.T}: "
    f"lambda_T = {ns.marginal_lambda(torch.tensor(ns.T)).item():.2f}"
)
