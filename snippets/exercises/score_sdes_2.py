"""Exercise: drop the noise from the reverse SDE but keep its drift. How bad is it?

The reverse SDE's drift has the full score term, twice the probability-flow one, so in
x~ = x / alpha the noiseless version reads d x~/d sigma~ = 2 eps. For data N(mu, s^2),
eps = sigma~ (x~ - mu) / (s^2 + sigma~^2), hence (x~ - mu) is proportional to s^2 +
sigma~^2 (not to its square root). Starting from p_T, the output variance is
    (s^2 + sigma~_0^2)^2 / (s^2 + sigma~_T^2)   instead of   s^2 + sigma~_0^2.
"""

import math

import numpy as np
import torch
from difflearn import GaussianMixture, NoiseScheduleVP
from scipy.integrate import solve_ivp

mu, s = 0.5, 1.0
gm = GaussianMixture([[mu]], s)
ns = NoiseScheduleVP("linear", dtype=torch.float64)
ts = torch.tensor([1.0, 1e-3], dtype=torch.float64)
(a_T, a_0), (g_T, g_0) = ns.marginal_alpha(ts).tolist(), ns.marginal_std(ts).tolist()
sb_T, sb_0 = g_T / a_T, g_0 / a_0


def rhs(log_sb, xt):  # d x~ / d log sigma~ = sigma~ * 2 eps
    sb = math.exp(log_sb)
    t = ns.inverse_lambda(torch.tensor([-log_sb], dtype=torch.float64))
    x = torch.from_numpy(xt)[:, None] * ns.marginal_alpha(t)
    return sb * 2 * gm.eps(x, t, ns)[:, 0].numpy()


xt_T = mu + math.sqrt(s**2 + sb_T**2) * np.array([-1.0, 1.0])  # +- one sd of p_T
sol = solve_ivp(rhs, (math.log(sb_T), math.log(sb_0)), xt_T, rtol=1e-10, atol=1e-12)
spread = (sol.y[1, -1] - sol.y[0, -1]) / 2  # sd of the output, in x~
predicted = (s**2 + sb_0**2) / math.sqrt(s**2 + sb_T**2)
print(
    f"output sd {spread:.3e} (predicted {predicted:.3e}; right answer "
    f"{math.sqrt(s**2 + sb_0**2):.3f})"
)
assert abs(spread / predicted - 1) < 1e-6
