"""Exercise: put UniC on top of DDIM. Predict the order.

UniPC with order=1 is the DDIM step (UniP-1) followed by the corrector UniC-1, which
interpolates the model output between both ends of the step. The corrector adds one
order and no model call: doubling the steps should divide the error by 4 instead of
DDIM's 2.
"""

import math

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, sample

gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.8, 0.9, 0.7])
ns = NoiseScheduleVP("linear", dtype=torch.float64)
eps = gm.noise_fn(ns)
x_T = torch.randn(
    64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
exact = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns, rtol=1e-12, atol=1e-12)


def error(method, steps, **kw):
    x = sample(
        eps, x_T, ns, method=method, steps=steps, skip_type="logSNR", t_end=1e-3, **kw
    )
    return (x - exact).norm(dim=1).mean().item()


for name, kw, expected in (
    ("DDIM", dict(method="ddim"), 1),
    ("UniPC-1", dict(method="unipc", order=1), 2),
):
    e = [error(steps=n, **kw) for n in (40, 80, 160)]
    slopes = [math.log2(e[i] / e[i + 1]) for i in range(2)]
    print(
        f"{name}: errors {[f'{v:.2e}' for v in e]}, measured order "
        f"{[round(s, 2) for s in slopes]}"
    )
    assert all(abs(s - expected) < 0.25 for s in slopes)
