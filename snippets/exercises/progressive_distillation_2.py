"""Exercise: how an error in each prediction reaches x0, on the linear schedule.

x0 = (x - sigma eps) / alpha = alpha x - sigma v, so d x0 / d eps = -sigma / alpha and
d x0 / d v = -sigma. Measured here by perturbing a model's output by delta through
model_wrapper and reading the change of x0 = (x - sigma eps_hat) / alpha.
"""

import torch
from difflearn import NoiseScheduleVP, beta_schedule, model_wrapper

ns = NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000))
x = torch.randn(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
delta = 1e-3
for t in (1.0, 0.5, 1e-3):
    tt = torch.full((4,), t, dtype=torch.float64)
    m = ns.marginals([t])
    alpha, sigma = float(m.alpha[0]), float(m.sigma[0])
    gains = {}
    for model_type in ("noise", "v", "x_start"):
        base = model_wrapper(
            lambda x, t_in: torch.zeros_like(x), ns, model_type=model_type
        )
        bump = model_wrapper(lambda x, t_in: torch.full_like(x, delta), ns, model_type)
        x0 = [(x - sigma * fn(x, tt)) / alpha for fn in (base, bump)]
        gains[model_type] = float((x0[1] - x0[0]).abs().mean()) / delta
    print(f"t = {t:g}: " + ", ".join(f"{k} {v:.4g}" for k, v in gains.items()))
    assert abs(gains["noise"] - sigma / alpha) < 1e-6 * sigma / alpha + 1e-6
    assert abs(gains["v"] - sigma) < 1e-6 and abs(gains["x_start"] - 1) < 1e-6
