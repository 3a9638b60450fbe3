"""Exercise: the 2M and the official 3M error constants, predicted and measured.

On a grid uniform in lambda (r = 1) the derivation gives the local errors
    2M (Taylor form):  sigma_t h^3 (1/6 + 1/4) eps''   = (5/12) sigma_t h^3 eps''
    3M, official:      sigma_t h^3 (1/6)(1 - 1/2) eps'' = (1/12) sigma_t h^3 eps''
so at the same small step the official 3M is 5 times closer than 2M, yet both errors
shrink like h^3 (global order 2). Reference: one library step from the exact trajectory
of the mixture (DOP853 at 1e-13), at h = 0.01 and 0.005.
"""

import math

import torch
from difflearn import GaussianMixture, NoiseScheduleVP
from difflearn.samplers.dpm_solver.updates import (
    dpm_solver_second_update,
    dpm_solver_third_update,
    second_order_coefficients,
    third_order_coefficients,
)

gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.8, 0.9, 0.7])
ns = NoiseScheduleVP("linear", dtype=torch.float64)
x_T = torch.randn(8, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))


def t_of(lam):
    return ns.inverse_lambda(torch.tensor([lam], dtype=torch.float64))


def x_at(lam):
    return gm.pf_ode_solve(x_T, 1.0, float(t_of(lam)), ns, rtol=1e-13, atol=1e-13)


def errors(h, l0=1.0):
    s, t = (ns.marginals(t_of(v), lambdas=[v]).point(0) for v in (l0, l0 + h))
    xs, exact = x_at(l0), x_at(l0 + h)
    m = [gm.eps(x_at(v), t_of(v), ns) for v in (l0, l0 - h, l0 - 2 * h)]
    two = dpm_solver_second_update(
        xs, m[0], m[1], second_order_coefficients("dpmsolver", "taylor", s, t, -1.0)
    )
    c3 = third_order_coefficients("dpmsolver", s, t, -1.0, -2.0, d2_weight=0.5)
    three = dpm_solver_third_update(xs, m[0], m[1], m[2], c3)
    return float((two - exact).norm()), float((three - exact).norm())


(a1, b1), (a2, b2) = errors(0.01), errors(0.005)
print(f"2M / official 3M local error: {a2 / b2:.2f} (predicted 5)")
print(f"slopes: 2M {math.log2(a1 / a2):.2f}, official 3M {math.log2(b1 / b2):.2f}")
assert abs(a2 / b2 - 5) < 0.5
assert abs(math.log2(a1 / a2) - 3) < 0.2 and abs(math.log2(b1 / b2) - 3) < 0.2
