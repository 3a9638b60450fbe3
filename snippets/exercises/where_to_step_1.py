"""Exercise 1: on the tangent grid, DDIM's relative error is 1 - cos(Theta/N)^N, close
to 1 - exp(-Theta^2 / 2N) ~ Theta^2 / 2N: first order, the constant set by the angle.
"""

import numpy as np
import torch
from difflearn import GaussianMixture, NoiseScheduleVP, sample

ns = NoiseScheduleVP("linear")
s = 0.5
gm = GaussianMixture([[0.3, -0.2]], s)
x_T = torch.randn(
    32, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
exact = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns)  # the independent reference (scipy)
centre = float(ns.marginals([1e-3]).alpha[0]) * gm.means[0]
th0, th1 = np.arctan(ns.marginals([1.0, 1e-3]).sigma_ve / s)
Theta = th0 - th1  # the angle the whole trajectory sweeps

rel = {}
for N in (10, 20):
    t = ns.inverse_lambda(
        torch.as_tensor(-np.log(s * np.tan(np.linspace(th0, th1, N + 1))))
    )
    t[0], t[-1] = 1.0, 1e-3
    out = sample(gm.noise_fn(ns), x_T, ns, "ddim", timesteps=t)
    rel[N] = ((out - exact).norm(dim=1) / (exact - centre).norm(dim=1)).mean().item()
    closed, approx = 1 - np.cos(Theta / N) ** N, 1 - np.exp(-(Theta**2) / (2 * N))
    print(f"N = {N}: measured {rel[N]:.5f}, closed {closed:.5f}, approx {approx:.5f}")
    assert abs(rel[N] - closed) < 1e-6 and abs(approx / closed - 1) < 0.01
assert 1.9 < rel[10] / rel[20] < 2.1  # doubling N halves the error: first order
