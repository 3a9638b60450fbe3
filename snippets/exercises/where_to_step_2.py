"""Exercise 2: a grid optimised for one sampler is not the best grid for another."""

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, beta_schedule, sample
from difflearn.samplers import calibrate, optimise_grid

ns = NoiseScheduleVP(
    "discrete", betas=beta_schedule("linear", 1000), dtype=torch.float64
)
gm = GaussianMixture(
    [[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2], [0.5, 0.3, 0.2]
)
eps = gm.noise_fn(ns)
x_cal = torch.randn(
    128, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
)
x_test = torch.randn(
    512, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
exact = gm.pf_ode_solve(x_test, 1.0, 1e-3, ns)
ref = calibrate(eps, x_cal, ns, 1.0, 1e-3)
methods = {"ddim": {}, "unipc": {"order": 2}, "ipndm": {"order": 3}}
grids = {
    m: optimise_grid(eps, x_cal, ns, m, 8, reference=ref, **kw).timesteps
    for m, kw in methods.items()
}
for m, kw in methods.items():
    err = {
        g: (sample(eps, x_test, ns, m, timesteps=t, **kw) - exact)
        .norm(dim=1)
        .mean()
        .item()
        for g, t in grids.items()
    }
    print(f"{m:6s} on the grid of " + ", ".join(f"{g} {e:.4f}" for g, e in err.items()))
    assert min(err, key=err.get) == m  # each sampler is best on its own grid
