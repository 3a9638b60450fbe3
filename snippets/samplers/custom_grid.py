"""Your own time grid: every sampler follows it,
DPM-Solver through its multistep plan.
"""

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, sample

ns = NoiseScheduleVP("linear")
gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2])
eps = gm.noise_fn(ns)
x_T = torch.randn(
    256, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
exact = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns)

# a hand-made grid: 10 steps, denser at low noise than time_uniform,
# coarser than time_quadratic
grid = torch.linspace(1.0, 1e-3 ** (1 / 1.5), 11, dtype=torch.float64) ** 1.5
for method in ("ddim", "unipc", "dpmsolver++"):
    out = sample(eps, x_T, ns, method=method, timesteps=grid)
    print(f"{method:12s} error {(out - exact).norm(dim=1).mean().item():.4f}")

# the grid is followed, not just its end points:
# the end points alone give another answer
on_grid = sample(eps, x_T, ns, method="dpmsolver++", timesteps=grid)
ends_only = sample(
    eps, x_T, ns, method="dpmsolver++", steps=10, t_start=1.0, t_end=float(grid[-1])
)
assert (on_grid - ends_only).abs().max() > 1e-3
try:  # singlestep DPM-Solver places its own intermediate points: no custom grid
    sample(
        eps, x_T, ns, method="dpmsolver++", timesteps=grid, solver_method="singlestep"
    )
    raise AssertionError("expected a ValueError")
except ValueError as e:
    print("ValueError:", str(e)[:60], "...")
