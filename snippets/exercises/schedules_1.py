"""Exercise: where is SNR = 1? Closed forms for the linear and cosine schedules.

SNR = 1 means lambda_t = 0, i.e. alpha_t^2 = 1/2.
- linear: log alpha_t = -(b1 - b0) t^2 / 4 - b0 t / 2 = -log(2) / 2, a quadratic in t;
- cosine: alpha_t = cos(theta_t) / cos(theta_0), theta_t = (t + s) / (1 + s) * pi / 2,
  so cos(theta_t) = cos(theta_0) / sqrt(2).
"""

import math

import torch
from difflearn import NoiseScheduleVP

b0, b1 = 0.1, 20.0
a, b, c = (b1 - b0) / 4, b0 / 2, -math.log(2) / 2
t_linear = (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)

s = 0.008
theta_0 = s / (1 + s) * math.pi / 2
t_cosine = (1 + s) * 2 / math.pi * math.acos(math.cos(theta_0) / math.sqrt(2)) - s

zero = torch.zeros(1, dtype=torch.float64)
for name, t_closed in (("linear", t_linear), ("cosine", t_cosine)):
    ns = NoiseScheduleVP(name, dtype=torch.float64)
    t_code = ns.inverse_lambda(zero).item()  # the library's inverse map
    lam = ns.marginal_lambda(torch.tensor([t_closed], dtype=torch.float64)).item()
    print(f"{name}: SNR = 1 at t = {t_closed:.6f} (inverse_lambda: {t_code:.6f})")
    assert abs(t_code - t_closed) < 1e-9 and abs(lam) < 1e-9

# the cosine schedule keeps signal longer: SNR = 1 comes later than for the linear one
assert t_cosine > 1.9 * t_linear
