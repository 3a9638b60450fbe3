r"""Plans and step loops of `DPM_Solver.sample`: multistep, singlestep and adaptive.

A plan holds everything that depends only on the time grid — the times, the
order of every step and the float64 weights of every update — so that the
loop in `run` is a handful of tensor operations per step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .dpm_solver_updates import (
    Marginals,
    dpm_solver_first_update,
    dpm_solver_second_update,
    dpm_solver_third_update,
    first_order_coefficients,
    marginals,
    second_order_coefficients,
    third_order_coefficients,
)

METHODS = ("multistep", "singlestep", "singlestep_fixed", "adaptive")

def _between(ns, m_s: Marginals, m_t: Marginals, r: float) -> Marginals:
    """The point at lambda_s + r h: its time from inverse_lambda, its lambda kept at the target value."""
    lam = m_s.lambda_ + r * (m_t.lambda_ - m_s.lambda_)
    t = ns.inverse_lambda(torch.tensor([lam], dtype=torch.float64))
    return marginals(ns, t, lambdas=[lam])[0]


@dataclass
class MultistepPlan:
    grid: list[Marginals]                 # steps + 1 points, t_T ... t_0
    orders: list[int]                     # order of step i = 1 .. steps
    coeffs: list[tuple]                   # weights of step i = 1 .. steps
    labels: list[str] = field(default_factory=list)

    # --8<-- [start:multistep_loop]
    def run(self, solver, x, intermediates, data):
        points = solver._points(x, self.grid)  # (t, alpha, sigma) of every grid point, built once
        fix, steps = solver.correcting_xt_fn, len(self.orders)
        outputs = [solver._evaluate(x, points[0], data)]  # model outputs at earlier grid points
        if fix is not None:
            x = fix(x, points[0][1][0], 0)
        if intermediates is not None:
            intermediates.append(x)
        for i in range(1, steps + 1):
            order, c = self.orders[i - 1], self.coeffs[i - 1]
            if order == 1:
                x = dpm_solver_first_update(x, outputs[-1], c)
            elif order == 2:
                x = dpm_solver_second_update(x, outputs[-1], outputs[-2], c)
            else:
                x = dpm_solver_third_update(x, outputs[-1], outputs[-2], outputs[-3], c)
            if fix is not None:
                x = fix(x, points[i][1][0], i)
            if intermediates is not None:
                intermediates.append(x)
            if i < steps:  # the output at t_0 is never needed
                outputs = outputs[-2:] + [solver._evaluate(x, points[i], data)]
        return x, steps
    # --8<-- [end:multistep_loop]


# --8<-- [start:multistep_plan]
def multistep_plan(solver, steps, t_T, t_0, order, skip_type, method, lower_order_final, solver_type,
                   times=None):
    """Grid, per-step orders and weights of multistep DPM-Solver (one model call per step).

    The first steps use order 1, 2, ... until enough past outputs exist; with
    `lower_order_final` and fewer than 10 steps the last steps lower the order again.
    `times`, if given, is the grid itself (steps + 1 checked times) instead of `skip_type`'s.
    """
    order = min(order, steps)
    times = solver._grid(skip_type, t_T, t_0, steps) if times is None else times
    grid = marginals(solver.noise_schedule, times)
    lam = [m.lambda_ for m in grid]
    alg, orders, coeffs = solver.algorithm_type, [], []
    for i in range(1, steps + 1):
        if i < order:
            k = i
        elif lower_order_final and steps < 10:
            k = min(order, steps + 1 - i)
        else:
            k = order
        s, t, h = grid[i - 1], grid[i], lam[i] - lam[i - 1]
        if k == 1:
            c = first_order_coefficients(alg, s, t)
        elif k == 2:  # the previous output sits at lambda_s + r h with r = -h_prev / h
            c = second_order_coefficients(alg, solver_type, s, t, -(lam[i - 1] - lam[i - 2]) / h)
        else:
            r1, r2 = -(lam[i - 1] - lam[i - 2]) / h, -(lam[i - 1] - lam[i - 3]) / h
            c = third_order_coefficients(alg, s, t, r1, r2, d2_weight=solver.multistep_d2_weight)
        orders.append(k)
        coeffs.append(c)
    labels = [f"step {i + 1} of {steps} (t={grid[i].t:.6g})" for i in range(steps)]
    return MultistepPlan(grid, orders, coeffs, labels)
# --8<-- [end:multistep_plan]


@dataclass
class SinglestepPlan:
    points: list[list[Marginals]]         # per step: s, then the intermediate points
    ends: list[Marginals]                 # per step: t
    orders: list[int]
    coeffs: list[tuple]                   # per step: weights of each stage
    final_taylor: bool                    # third order: full Taylor combination or DPM-Solver-3
    labels: list[str] = field(default_factory=list)

    # --8<-- [start:singlestep_loop]
    def run(self, solver, x, intermediates, data):
        fix = solver.correcting_xt_fn
        flat = solver._points(x, self.ends + [q for p in self.points for q in p])  # built once
        ends, flat = flat[:len(self.ends)], iter(flat[len(self.ends):])
        for j, (order, c) in enumerate(zip(self.orders, self.coeffs)):
            p = [next(flat) for _ in self.points[j]]  # s, s1, s2
            m_s = solver._evaluate(x, p[0], data)
            if order == 1:
                x = dpm_solver_first_update(x, m_s, c[0])
            elif order == 2:
                m_1 = solver._evaluate(dpm_solver_first_update(x, m_s, c[0]), p[1], data)
                x = dpm_solver_second_update(x, m_s, m_1, c[1])
            else:
                m_1 = solver._evaluate(dpm_solver_first_update(x, m_s, c[0]), p[1], data)
                m_2 = solver._evaluate(dpm_solver_second_update(x, m_s, m_1, c[1]), p[2], data)
                if self.final_taylor:
                    x = dpm_solver_third_update(x, m_s, m_1, m_2, c[2])
                else:
                    x = dpm_solver_second_update(x, m_s, m_2, c[2])
            if fix is not None:
                x = fix(x, ends[j][1][0], j)
            if intermediates is not None:
                intermediates.append(x)
        return x, len(self.orders) - 1
    # --8<-- [end:singlestep_loop]


def singlestep_stage_coefficients(alg, solver_type, ns, s, t, r1=None, r2=None):
    """Intermediate points and stage weights of one singlestep step of order 1, 2 or 3."""
    if r1 is None:
        return [s], [first_order_coefficients(alg, s, t)]
    s1 = _between(ns, s, t, r1)
    if r2 is None:
        return [s, s1], [first_order_coefficients(alg, s, s1),
                         second_order_coefficients(alg, solver_type, s, t, r1)]
    s2 = _between(ns, s, t, r2)
    final = (third_order_coefficients(alg, s, t, r1, r2) if solver_type == "taylor"
             else second_order_coefficients(alg, "taylor", s, t, r2))  # DPM-Solver-3 uses only m_s2
    return [s, s1, s2], [first_order_coefficients(alg, s, s1),
                         second_order_coefficients(alg, "taylor", s, s2, r1 / r2), final]


# --8<-- [start:singlestep_plan]
def singlestep_orders(steps: int, order: int) -> list[int]:
    """Orders of "DPM-Solver-fast": use `steps` evaluations with as many order-`order` steps as fit."""
    if order == 3:
        k = steps // 3 + 1
        return [3] * (k - 2) + [2, 1] if steps % 3 == 0 else [3] * (k - 1) + [steps % 3]
    if order == 2:
        return [2] * (steps // 2) + [1] * (steps % 2)
    return [1] * steps


def singlestep_plan(solver, steps, t_T, t_0, order, skip_type, method, lower_order_final, solver_type):
    """Outer grid, per-step orders, intermediate points and weights of singlestep DPM-Solver."""
    ns, alg = solver.noise_schedule, solver.algorithm_type
    if method == "singlestep":
        orders = singlestep_orders(steps, order)
        if skip_type == "logSNR":  # outer steps uniform in lambda, as in the DPM-Solver paper
            outer = solver._grid(skip_type, t_T, t_0, len(orders))
        else:  # every order-k step spans k intervals of the fine grid
            ends = torch.cumsum(torch.tensor([0] + orders), 0)
            outer = solver._grid(skip_type, t_T, t_0, steps)[ends]
    else:
        order = min(order, steps)
        orders = [order] * (steps // order)
        outer = solver._grid(skip_type, t_T, t_0, len(orders))
    outer = marginals(ns, outer)
    points, coeffs, labels = [], [], []
    for j, k in enumerate(orders):
        s, t = outer[j], outer[j + 1]
        # stage fractions r_k from a k-interval grid between s and t (uniform in lambda for logSNR)
        lam_inner = ns.marginal_lambda(solver._grid(skip_type, s.t, t.t, k)).tolist()
        h_inner = lam_inner[-1] - lam_inner[0]
        r = [(lam_inner[i] - lam_inner[0]) / h_inner for i in range(1, k)]
        p, c = singlestep_stage_coefficients(alg, solver_type, ns, s, t, *r)
        points.append(p)
        coeffs.append(c)
        labels += [f"step {j + 1} of {len(orders)}, stage {i + 1} (t={q.t:.6g})" for i, q in enumerate(p)]
    return SinglestepPlan(points, outer[1:], orders, coeffs, solver_type == "taylor", labels)
# --8<-- [end:singlestep_plan]


# --8<-- [start:adaptive]
def solve_adaptive(solver, x, order, t_T, t_0, atol, rtol, solver_type, labels,
                   h_init=0.05, theta=0.9, t_err=1e-5):
    r"""DPM-Solver-12 (`order=2`) or -23 (`order=3`): adaptive steps in $\lambda$ (Lu et al., 2022a, Sec. 4).

    Each step computes a lower- and a higher-order solution that share model
    calls, accepts when the scaled difference
    $E = \lVert (x_\text{high} - x_\text{low}) / \max(\text{atol}, \text{rtol}\,\max(|x_\text{low}|,
    |x_\text{prev}|)) \rVert_\text{RMS} \le 1$, and sets
    $h \leftarrow \min(\theta h E^{-1/k}, \lambda_0 - \lambda_s)$ (Jolicoeur-Martineau et al., 2021).
    The step size depends on the data, so this loop has to read $E$ on the host every step.
    """
    ns, alg, data = solver.noise_schedule, solver.algorithm_type, solver.algorithm_type == "dpmsolver++"
    lam = lambda t: float(ns.marginal_lambda(torch.tensor([t], dtype=torch.float64))[0])
    s, lambda_s, lambda_0, h, x_prev = t_T, lam(t_T), lam(t_0), h_init, x
    while abs(s - t_0) > t_err:
        t = float(ns.inverse_lambda(torch.tensor([lambda_s + h], dtype=torch.float64))[0])
        m_s_, m_t_ = marginals(ns, [s, t])
        r = (0.5,) if order == 2 else (1.0 / 3.0, 2.0 / 3.0)
        pts, _ = singlestep_stage_coefficients(alg, solver_type, ns, m_s_, m_t_, *r)
        p = solver._points(x, pts)
        labels += [f"an adaptive step from t={s:.6g} to t={t:.6g}"] * order
        m_s = solver._evaluate(x, p[0], data)
        m_1 = solver._evaluate(dpm_solver_first_update(x, m_s, first_order_coefficients(alg, m_s_, pts[1])),
                               p[1], data)
        if order == 2:
            x_lower = dpm_solver_first_update(x, m_s, first_order_coefficients(alg, m_s_, m_t_))
            x_higher = dpm_solver_second_update(
                x, m_s, m_1, second_order_coefficients(alg, solver_type, m_s_, m_t_, r[0]))
        else:
            x_lower = dpm_solver_second_update(
                x, m_s, m_1, second_order_coefficients(alg, solver_type, m_s_, m_t_, r[0]))
            x_2 = dpm_solver_second_update(
                x, m_s, m_1, second_order_coefficients(alg, "taylor", m_s_, pts[2], r[0] / r[1]))
            m_2 = solver._evaluate(x_2, p[2], data)
            if solver_type == "taylor":
                x_higher = dpm_solver_third_update(
                    x, m_s, m_1, m_2, third_order_coefficients(alg, m_s_, m_t_, r[0], r[1]))
            else:
                x_higher = dpm_solver_second_update(
                    x, m_s, m_2, second_order_coefficients(alg, "taylor", m_s_, m_t_, r[1]))
        delta = torch.clamp(rtol * torch.maximum(x_lower.abs(), x_prev.abs()), min=atol)
        E = ((x_higher - x_lower) / delta).reshape(x.shape[0], -1).square().mean(-1).sqrt().max()
        if not torch.isfinite(E):
            solver._check_finite(labels)
            raise ValueError(f"adaptive step from t={s:.6g} produced NaN or inf (error estimate {float(E)})")
        if E <= 1.0:
            x, s, x_prev, lambda_s = x_higher, t, x_lower, lam(t)
        # the step factor is rounded to float32 as in the official code, so the grids agree exactly
        h = min(theta * h * float(torch.float_power(E, -1.0 / order).float()), lambda_0 - lambda_s)
    return x
# --8<-- [end:adaptive]
