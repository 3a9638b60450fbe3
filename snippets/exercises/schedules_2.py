"""Exercise: the cliff at the end of the cosine table, predicted from the beta cap.

Built here from the formula of improved DDPM, independently of
difflearn.schedules.betas: alpha_bar(t) = f(t) / f(0),
f(t) = cos^2((t + s) / (1 + s) * pi / 2), and
beta_n = min(1 - alpha_bar((n + 1) / N) / alpha_bar(n / N), 0.999). The last beta would
be exactly 1 (f(1) = 0); the cap sets alpha_bar_N = 0.001 alpha_bar_{N-1}, so lambda
drops by about log(0.001) / 2 = -3.45 in one step.
"""

import math

import numpy as np
import torch
from difflearn import NoiseScheduleVP, beta_schedule

N, s = 1000, 0.008
f = np.cos((np.arange(N + 1) / N + s) / (1 + s) * np.pi / 2) ** 2
raw = 1 - f[1:] / f[:-1]
assert raw[-1] == 1.0  # uncapped: lambda_N = -infinity
betas = np.minimum(raw, 0.999)
alpha_bar = np.cumprod(1 - betas)
lam = 0.5 * np.log(alpha_bar) - 0.5 * np.log1p(-alpha_bar)
print("last lambdas:", np.round(lam[-5:], 2))

# the jump at the capped step, predicted from the cap alone
predicted = lam[-2] + 0.5 * math.log(1e-3)  # alpha_bar_N = 0.001 alpha_bar_{N-1}
predicted += -0.5 * math.log1p(-alpha_bar[-1])
predicted += 0.5 * math.log1p(-alpha_bar[-2])
assert abs(lam[-1] - predicted) < 1e-9 and lam[-1] - lam[-2] < -3.4

# the -5.1 clip drops exactly the steps past the cliff's edge
dropped = int((lam < -5.1).sum())
ns = NoiseScheduleVP("discrete", betas=beta_schedule("cosine", N), dtype=torch.float64)
print(f"{dropped} steps below -5.1; NoiseScheduleVP keeps {ns.total_N}")
assert dropped == 4 and ns.total_N == N - dropped
assert np.allclose(beta_schedule("cosine", N).double().numpy(), betas, atol=1e-12)
