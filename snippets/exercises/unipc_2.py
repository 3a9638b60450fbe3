"""Exercise: count the model calls, then compare at equal cost.

Wrap the model in a counter. UniPC's corrector reuses the output it needs for the next
step anyway, so N steps cost N calls, like DPM-Solver++(2M); Heun costs 2 per step.
Prediction: at 10 calls UniPC-2 (bh2) beats DPM-Solver++(2M) and Heun on the exact
mixture.
"""

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, sample

gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.8, 0.9, 0.7])
ns = NoiseScheduleVP("linear", dtype=torch.float64)
x_T = torch.randn(
    256, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
exact = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns)
calls = 0


def counted(x, t):
    global calls
    calls += 1
    return gm.eps(x, t, ns)


results = {}
for name, kw in (
    ("UniPC-2", dict(method="unipc", order=2, steps=10)),
    ("DPM-Solver++(2M)", dict(method="dpmsolver++", order=2, steps=10)),
    ("Heun", dict(method="heun", steps=5)),
):
    calls = 0
    x = sample(counted, x_T, ns, skip_type="time_quadratic", t_end=1e-3, **kw)
    results[name] = (calls, (x - exact).norm(dim=1).mean().item())
    print(f"{name:17s} {calls:2d} calls, error {results[name][1]:.2e}")
assert results["UniPC-2"][0] == results["DPM-Solver++(2M)"][0] == 10
assert results["Heun"][0] == 10
assert results["UniPC-2"][1] < min(results["DPM-Solver++(2M)"][1], results["Heun"][1])
