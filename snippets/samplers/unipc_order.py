"""UniC raises the order: UniP-2 alone is second order, UniPC-2 (with UniC) third, at
the same NFE.
"""

import math

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, sample

ns = NoiseScheduleVP("linear")
gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2])
eps = gm.noise_fn(ns)
x_T = torch.randn(
    64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
exact = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns)


def err(steps, **kw):
    out = sample(eps, x_T, ns, "unipc", steps=steps, skip_type="logSNR", order=2, **kw)
    return (out - exact).norm(dim=1).mean().item()


for corrector, theory in ((False, 2), (True, 3)):
    slope = math.log2(
        err(160, use_corrector=corrector) / err(320, use_corrector=corrector)
    )
    print(f"use_corrector={corrector}: measured order {slope:.2f} (theory {theory})")
    assert abs(slope - theory) < 0.3
assert err(10) < err(10, use_corrector=False)  # and it helps at small NFE too
