"""The analytic first step: exact for Gaussian data, one model call saved; on the
mixture, that call buys an extra step at NFE 5.
"""

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, beta_schedule, time_steps
from difflearn.samplers import analytic_first_step, ipndm

ns = NoiseScheduleVP(
    "discrete", betas=beta_schedule("linear", 1000), dtype=torch.float64
)
x_T = torch.randn(
    512, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)


def counted(fn):
    def wrapped(x, t):
        wrapped.calls += 1
        return fn(x, t)

    wrapped.calls = 0
    return wrapped


# Gaussian data: the closed form is the exact noise prediction, so nothing changes
g1 = GaussianMixture([[0.3, -0.2]], 0.7)
t = time_steps(ns, "time_quadratic", 1.0, 1e-3, 6, dtype=torch.float64)
model = counted(g1.noise_fn(ns))
afs = analytic_first_step(model, ns, 1.0, mean=g1.means[0], var=0.49)
with_afs = ipndm(afs, x_T, ns, t, order=3)
assert model.calls == 5 and afs.saved == 1
assert torch.allclose(with_afs, ipndm(g1.noise_fn(ns), x_T, ns, t, order=3), atol=1e-12)

# the three-component mixture: 5 calls on 5 steps, or 5 calls on 6 steps
gm = GaussianMixture(
    [[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2], [0.5, 0.3, 0.2]
)
exact = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns)
w = gm.weights[:, None]
mean = (w * gm.means).sum(0)
var = (w * (gm.stds[:, None] ** 2 + gm.means**2)).sum(0) - mean**2  # per coordinate
afs = analytic_first_step(gm.noise_fn(ns), ns, 1.0, mean, var)
err = {}
for label, fn, steps in (("5 steps", gm.noise_fn(ns), 5), ("AFS + 6 steps", afs, 6)):
    t = time_steps(ns, "time_quadratic", 1.0, 1e-3, steps, dtype=torch.float64)
    err[label] = (ipndm(fn, x_T, ns, t, order=3) - exact).norm(dim=1).mean().item()
print("iPNDM-3, NFE 5:", err)
assert err["AFS + 6 steps"] < 0.7 * err["5 steps"]
