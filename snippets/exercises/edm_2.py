"""Exercise: the Karras grid by hand. Where do the steps go?

sigma~_i = (smax^(1/rho) + i/N (smin^(1/rho) - smax^(1/rho)))^rho with rho = 7. Count
the levels below sigma~ = 1 (where the data's structure is decided): solving sigma~_i =
1 for i gives i* = N (smax^(1/rho) - 1) / (smax^(1/rho) - smin^(1/rho)); the levels i >
i* lie below 1, N - floor(i*) of the N + 1. Check against time_steps(ns, "karras", ...)
converted to sigma~ = exp(-lambda).
"""

import math

import numpy as np
import torch
from difflearn import NoiseScheduleVP, time_steps

ns = NoiseScheduleVP("linear", dtype=torch.float64)
N, rho = 20, 7.0
lam = ns.marginal_lambda(torch.tensor([1.0, 1e-3], dtype=torch.float64)).tolist()
smax, smin = math.exp(-lam[0]), math.exp(-lam[1])
i = np.arange(N + 1)
by_hand = (smax ** (1 / rho) + i / N * (smin ** (1 / rho) - smax ** (1 / rho))) ** rho

t = time_steps(ns, "karras", 1.0, 1e-3, N, dtype=torch.float64)
from_code = torch.exp(-ns.marginal_lambda(t)).numpy()
assert np.allclose(from_code, by_hand, rtol=1e-9)

i_star = N * (smax ** (1 / rho) - 1) / (smax ** (1 / rho) - smin ** (1 / rho))
below = int((by_hand < 1).sum())
print(
    f"sigma~ from {smax:.1f} to {smin:.4f}; {below} of {N + 1} levels below 1 "
    f"(i* = {i_star:.2f})"
)
assert below == N - math.floor(i_star)
