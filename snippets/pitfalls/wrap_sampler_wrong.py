"""WRONG: applying guidance to the sampler's outputs instead of to the model's
predictions.

Running the sampler twice (conditional and unconditional, same noise) and mixing the
final samples, x = x_u + s (x_c - x_u), is not guided sampling: the ODE is nonlinear in
x, so mixing its solutions is not solving the mixed ODE. Reference: the guided ODE
solved with scipy.
"""

import math

import torch
from difflearn import DPM_Solver, GaussianMixture, NoiseScheduleVP, model_wrapper
from scipy.integrate import solve_ivp

ns = NoiseScheduleVP("linear")
gm = GaussianMixture([[-2.0], [0.0], [2.0]], 0.5)
model, s, B = gm.noise_fn(ns), 3.0, 256
y, null = torch.full((B,), 2), torch.full((B,), -1)
x_T = torch.randn(B, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def guided_ode_reference(x_T, t_T=1.0, t_0=1e-3):
    """d xbar / d sbar = eps_u + s (eps_c - eps_u) in xbar = x/alpha, sbar = sigma/alpha
    (DOP853).
    """

    def rhs(log_sbar, xbar):
        t = ns.inverse_lambda(torch.tensor([-log_sbar], dtype=torch.float64)).expand(B)
        x = torch.from_numpy(xbar)[:, None] * ns.marginal_alpha(t)[:, None]
        e_u, e_c = model(x, t, null), model(x, t, y)
        return math.exp(log_sbar) * (e_u + s * (e_c - e_u))[:, 0].numpy()

    lam = ns.marginal_lambda(torch.tensor([t_T, t_0], dtype=torch.float64)).tolist()
    a_T, a_0 = ns.marginal_alpha(torch.tensor([t_T, t_0], dtype=torch.float64)).tolist()
    sol = solve_ivp(
        rhs,
        (-lam[0], -lam[1]),
        x_T[:, 0].numpy() / a_T,
        method="DOP853",
        rtol=1e-9,
        atol=1e-9,
    )
    return a_0 * torch.from_numpy(sol.y[:, -1])[:, None]


def solve(model_fn):
    return DPM_Solver(model_fn, ns).sample(x_T, steps=50, t_end=1e-3, order=2)


x_c = solve(
    model_wrapper(
        model, ns, guidance_type="classifier-free", condition=y, guidance_scale=1.0
    )
)
x_u = solve(model_wrapper(lambda x, t: model(x, t, null), ns))
x_mixed = x_u + s * (x_c - x_u)  # WRONG: guidance on the samples
error = (x_mixed - guided_ode_reference(x_T)).abs().mean().item()
print(f"mixing samples: mean |x - guided ODE| = {error:.3f}")
assert error > 0.3
