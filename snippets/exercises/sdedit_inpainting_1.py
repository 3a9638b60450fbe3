"""Exercise: how much of the guide survives SDEdit's noising at strength s?

x_{t0} = alpha_{t0} guide + sigma_{t0} z with t0 = t_end + s (T - t_end). Find s
where alpha = 0.5 and where alpha = sigma (lambda = 0), on the linear schedule's
discrete table, by bisection on sdedit_timesteps' start time.
"""

import torch
from difflearn import NoiseScheduleVP, beta_schedule
from difflearn.editing import sdedit_timesteps
from scipy.optimize import brentq

ns = NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000))


def start(s):
    m = ns.marginals(sdedit_timesteps(ns, s, 1)[:1])
    return float(m.alpha[0]), float(m.sigma[0])


half = brentq(lambda s: start(s)[0] - 0.5, 0.01, 1.0)
even = brentq(lambda s: start(s)[0] - start(s)[1], 0.01, 1.0)
print(f"alpha = 0.5 at s = {half:.3f}; alpha = sigma at s = {even:.3f}")
assert abs(half - 0.37) < 0.01 and abs(even - 0.26) < 0.01
# the same from the betas directly: alpha_t^2 = prod (1 - beta_n), n < t N
betas = beta_schedule("linear", 1000).double()
alpha = torch.cumprod(1 - betas, 0).sqrt()
n_half = int((alpha < 0.5).nonzero()[0])
assert abs((n_half + 1) / 1000 - (1e-3 + half * (1 - 1e-3))) < 2e-3
