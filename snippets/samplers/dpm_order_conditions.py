# The leading local errors derived on the page, against one library step from the exact
# trajectory of the mixture: 2M, the official 3M, and DPM-Solver-3 with r2 = 2/3 or not.
import math

import torch
from difflearn import GaussianMixture, NoiseScheduleVP
from difflearn.samplers.dpm_solver.plans import stage_coefficients
from difflearn.samplers.dpm_solver.updates import (
    dpm_solver_first_update,
    dpm_solver_second_update,
    dpm_solver_third_update,
    second_order_coefficients,
    third_order_coefficients,
)

gm = GaussianMixture(
    [[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.8, 0.9, 0.7], [0.5, 0.3, 0.2]
)
ns = NoiseScheduleVP("linear", dtype=torch.float64)
x_T = torch.randn(8, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
exact = {}


def t_of(lam):
    return ns.inverse_lambda(torch.tensor([lam], dtype=torch.float64))


def x_at(lam):  # the exact state of the probability-flow ODE at lambda
    if lam not in exact:
        exact[lam] = gm.pf_ode_solve(x_T, 1.0, float(t_of(lam)), ns, 1e-13, 1e-13)
    return exact[lam]


def eps(x, lam):
    return gm.eps(x, t_of(lam), ns)


def point(lam):
    return ns.marginals(t_of(lam), lambdas=[lam]).point(0)


l0, delta = 0.5, 1e-2
# m'' = d^2 eps(x(lambda), lambda) / d lambda^2 along the exact trajectory
m2 = (
    eps(x_at(l0 + delta), l0 + delta)
    - 2 * eps(x_at(l0), l0)
    + eps(x_at(l0 - delta), l0 - delta)
) / delta**2


def step(kind, h, r=(1 / 3, 2 / 3)):
    s, t, x = point(l0), point(l0 + h), x_at(l0)
    m_s = eps(x, l0)
    if kind in ("2M", "3M official"):
        m1, m2_ = eps(x_at(l0 - h), l0 - h), eps(x_at(l0 - 2 * h), l0 - 2 * h)
        if kind == "2M":
            c = second_order_coefficients("dpmsolver", "taylor", s, t, -1.0)
            return dpm_solver_second_update(x, m_s, m1, c)
        c = third_order_coefficients("dpmsolver", s, t, -1.0, -2.0, d2_weight=0.5)
        return dpm_solver_third_update(x, m_s, m1, m2_, c)
    pts, c = stage_coefficients(ns, "dpmsolver", "dpmsolver", s, t, *r)  # DPM-Solver-3
    u1 = dpm_solver_first_update(x, m_s, c[0])
    u2 = dpm_solver_second_update(x, m_s, eps(u1, pts[1].lambda_), c[1])
    return dpm_solver_second_update(x, m_s, eps(u2, pts[2].lambda_), c[2])


def local_error(kind, h, r=(1 / 3, 2 / 3)):
    return step(kind, h, r) - x_at(l0 + h)


h = 0.005
sigma_t = point(l0 + h).sigma
# leading terms derived on the page: step - exact = sigma_t h^3 C m''
for kind, C, r in (
    ("2M", 1 / 6 + 1 / 4, None),
    ("3M official", 1 / 12, None),
    ("3S r2 = 1/2", 1 / 6 - 0.5 / 4, (1 / 3, 1 / 2)),
    ("3S r2 = 0.8", 1 / 6 - 0.8 / 4, (1 / 3, 0.8)),
):
    err = local_error(kind if r is None else "3S", h, r or (1 / 3, 2 / 3))
    predicted = sigma_t * h**3 * C * m2
    rel = float((err - predicted).norm() / predicted.norm())
    print(f"{kind:12s} local error / predicted leading term - 1: {rel:.3f}")
    assert rel < 0.1

# r2 = 2/3 cancels the h^3 term (local order 4); r1 does not enter the condition
for r in ((1 / 3, 2 / 3), (0.2, 2 / 3), (0.5, 2 / 3), (1 / 3, 0.5), (1 / 3, 0.8)):
    e1, e2 = (float(local_error("3S", hh, r).norm()) for hh in (0.1, 0.05))
    order = math.log2(e1 / e2)
    print(f"r1 = {r[0]:.3f}, r2 = {r[1]:.3f}: local error ~ h^{order:.2f}")
    assert abs(order - (4 if abs(r[1] - 2 / 3) < 1e-12 else 3)) < 0.3
