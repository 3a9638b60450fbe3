"""Optimise UniPC's grid on the exact mixture: calibrate on some noises, measure on
others; compare with the fixed grids and the two dynamic-programming grids (GITS, AYS).
"""

import torch
from difflearn import (
    GaussianMixture,
    NoiseScheduleVP,
    beta_schedule,
    sample,
    time_steps,
)
from difflearn.samplers import calibrate, optimise_grid
from difflearn.samplers.grid_costs import klub_costs, local_error_costs, shortest_path

ns = NoiseScheduleVP(
    "discrete", betas=beta_schedule("linear", 1000), dtype=torch.float64
)
gm = GaussianMixture(
    [[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2], [0.5, 0.3, 0.2]
)
eps = gm.noise_fn(ns)


def noise(n, seed):
    return torch.randn(
        n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)
    )


x_cal, x_test = noise(256, 1), noise(512, 0)  # calibration and held-out noises
exact = gm.pf_ode_solve(x_test, 1.0, 1e-3, ns)
ref = calibrate(eps, x_cal, ns, 1.0, 1e-3, candidates=64, substeps=8)
C_gits = local_error_costs(ref.cand, ref.states, ref.x0_preds)
x0 = gm.sample(4096, generator=torch.Generator().manual_seed(2))  # AYS needs data
C_ays = klub_costs(eps, x0, ref.cand, torch.Generator().manual_seed(3))


def test_error(t):
    return (
        (sample(eps, x_test, ns, "unipc", timesteps=t) - exact)
        .norm(dim=1)
        .mean()
        .item()
    )


def times(lam):
    t = ns.inverse_lambda(torch.as_tensor(lam))
    t[0], t[-1] = 1.0, 1e-3
    return t


for N in (5, 10):
    err = {
        k: test_error(time_steps(ns, k, 1.0, 1e-3, N, dtype=torch.float64))
        for k in ("time_uniform", "logSNR", "time_quadratic", "karras")
    }
    best_fixed = min(err.values())
    err["GITS (DP)"] = test_error(times(ref.cand.lam[shortest_path(C_gits, N)]))
    err["AYS bound (DP)"] = test_error(times(ref.cand.lam[shortest_path(C_ays, N)]))
    r = optimise_grid(eps, x_cal, ns, "unipc", N, reference=ref, maxfev=400)
    err["optimised"] = test_error(r.timesteps)
    print(f"N = {N}: " + ", ".join(f"{k} {v:.4f}" for k, v in err.items()))
    assert err["optimised"] < 0.5 * best_fixed  # on noises it never saw
    assert err["AYS bound (DP)"] > best_fixed  # an SDE bound, a poor guide for the ODE
