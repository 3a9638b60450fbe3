"""UniC costs no model call; UniP-1 is DDIM; B(h) matters only where the weight 1/2 is
fixed.
"""

import numpy as np
import torch
from difflearn import GaussianMixture, NoiseScheduleVP
from difflearn.samplers import ddim, unipc
from difflearn.samplers.unipc import unipc_weights
from difflearn.schedules import time_steps

ns = NoiseScheduleVP("linear")
gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2])
eps = gm.noise_fn(ns)
x_T = torch.randn(
    64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
grid = time_steps(ns, "logSNR", 1.0, 1e-3, 10, dtype=torch.float64)
exact = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns)

calls = []


def counted(x, t):
    calls.append(t)
    return eps(x, t)


errors = {}
for use_corrector in (False, True):
    calls.clear()
    out = unipc(counted, x_T, ns, grid, order=2, use_corrector=use_corrector)
    errors[use_corrector] = (out - exact).norm(dim=1).mean().item()
    print(
        f"use_corrector={use_corrector}: {len(calls)} model calls, "
        f"error {errors[use_corrector]:.4f}"
    )
    assert (
        len(calls) == 10
    )  # 10 steps, 10 calls: the corrector reuses the next step's call
assert (
    errors[True] < 0.8 * errors[False]
)  # and lowers the error at the same cost (by a quarter here)

for variant in (
    "bh1",
    "bh2",
):  # B(h) only weighs the differences D_k: no effect at order 1
    out = unipc(eps, x_T, ns, grid, order=1, variant=variant, use_corrector=False)
    assert torch.allclose(out, ddim(eps, x_T, ns, grid), rtol=0, atol=1e-12)

# where the order conditions are solved, the weights are proportional to 1/B(h):
# B(h) * rho is the same
h = 0.4  # a step in lambda; data prediction uses h_bar = -h
for rks, corrector in (([-0.8], True), ([-0.8, -1.7], False), ([-0.8, -1.7], True)):
    bh1, bh2 = (unipc_weights(h, rks, v, True, corrector) for v in ("bh1", "bh2"))
    assert np.allclose(bh1[1] * bh1[2], bh2[1] * bh2[2], rtol=1e-12)
# UniC-1 uses the fixed weight 1/2; the exact weight is h_bar phi_2(h_bar),
# between bh1's and bh2's
h_bar = -h
exact = (np.expm1(h_bar) - h_bar) / h_bar
_, B1, rho1 = unipc_weights(h, [], "bh1", True, True)
_, B2, rho2 = unipc_weights(h, [], "bh2", True, True)
print(
    f"UniC-1 weight: bh1 {B1 * rho1[0]:.4f}, bh2 {B2 * rho2[0]:.4f}, exact {exact:.4f}"
)
assert B1 * rho1[0] < exact < B2 * rho2[0]
