# score_sde's sampler: scipy's RK45 on the probability-flow ODE in t. The tolerance,
# not a step count, sets the number of model evaluations; NFE is counted.
import torch
from difflearn import GaussianMixture, NoiseScheduleVP, beta_schedule, sample

ns = NoiseScheduleVP(
    "discrete", betas=beta_schedule("linear", 1000), dtype=torch.float64
)
gm = GaussianMixture(
    [[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2], [0.5, 0.3, 0.2]
)
x_T = torch.randn(
    256, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
exact = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns)
eps = gm.noise_fn(ns)


def error(x):
    return (x - exact).norm(dim=1).mean().item()


for tol in (1e-2, 1e-3, 1e-4):
    x, nfe = sample(
        eps, x_T, ns, method="rk45", t_end=1e-3, rtol=tol, atol=tol, return_nfe=True
    )
    # the same number of evaluations, spent by a multistep exponential integrator
    y = sample(
        eps,
        x_T,
        ns,
        method="dpmsolver++",
        steps=nfe,
        t_end=1e-3,
        order=3,
        skip_type="time_quadratic",
    )
    print(
        f"rtol = atol = {tol:.0e}: RK45 {nfe:3d} evaluations, error {error(x):.2e}; "
        f"DPM-Solver++(3M), same NFE: {error(y):.2e}"
    )
    assert error(y) < error(x)
