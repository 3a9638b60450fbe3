"""FIXED: put the guidance inside the model function the sampler calls at every step
(model_wrapper).
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


model_fn = model_wrapper(
    model,
    ns,
    guidance_type="classifier-free",
    condition=y,
    unconditional_condition=null,
    guidance_scale=s,
)
x = DPM_Solver(model_fn, ns).sample(x_T, steps=100, t_end=1e-3, order=2)
error = (x - guided_ode_reference(x_T)).abs().mean().item()
print(f"guidance in the model: mean |x - guided ODE| = {error:.4f}")
assert error < 0.02
