r"""Plans of `DPM_Solver.sample`: where each step goes, its order, and the weights of
its update.

A plan depends only on the schedule and the time grid, never on the samples, so these
functions are pure: they take a schedule and times and return float64 tables
(`difflearn.schedules.Marginals`) and tuples of floats. The step loops of
`difflearn.samplers.dpm_solver.loops` then only combine tensors with those weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ...schedules.grids import time_steps
from ...schedules.vp import Marginals, Point
from .updates import (
    first_order_coefficients,
    second_order_coefficients,
    third_order_coefficients,
)

DPM_METHODS = (
    "multistep",
    "singlestep",
    "singlestep_fixed",
    "adaptive",
)  # DPM_Solver.sample(method=...)


def grid_times(
    noise_schedule,
    skip_type: str,
    t_T: float,
    t_0: float,
    N: int,
    dtype: torch.dtype | None = torch.float64,
    device=None,
) -> torch.Tensor:
    """N + 1 times from `t_T` to `t_0`, in either direction (float64 by default; `None`:
    torch's default dtype, as the official `get_time_steps`)."""
    if t_T >= t_0:
        return time_steps(
            noise_schedule, skip_type, t_T, t_0, N, device=device, dtype=dtype
        )
    return time_steps(
        noise_schedule, skip_type, t_0, t_T, N, device=device, dtype=dtype
    ).flip(0)


def between(noise_schedule, s: Point, t: Point, r: float) -> Point:
    r"""The point at $\lambda_s + r h$: its time from `inverse_lambda`, its $\lambda$
    kept at the target.
    """
    lam = s.lambda_ + r * (t.lambda_ - s.lambda_)
    time = noise_schedule.inverse_lambda(torch.tensor([lam], dtype=torch.float64))
    return noise_schedule.marginals(time, lambdas=[lam]).point(0)


def table(points: list[Point]) -> Marginals:
    """A list of `Point`s as one `Marginals` table."""
    cols = list(zip(*points))
    return Marginals(*(np.asarray(c, dtype=np.float64) for c in cols))


# --8<-- [start:multistep_plan]
def multistep_orders(steps: int, order: int, lower_order_final: bool) -> list[int]:
    """The order of each multistep step: warm up 1, 2, ..., then `order`; with
    `lower_order_final` and fewer than 10 steps, lower it again at the end (the official
    rule)."""
    order = min(order, steps)
    orders = []
    for i in range(1, steps + 1):
        if i < order:
            orders.append(i)
        elif lower_order_final and steps < 10:
            orders.append(min(order, steps + 1 - i))
        else:
            orders.append(order)
    return orders


def multistep_plan(
    grid: Marginals,
    orders: list[int],
    algorithm_type: str,
    solver_type: str,
    d2_weight: float,
) -> list[tuple]:
    """The weights of every multistep step on `grid` (one model call per step).

    Step i goes from grid point i - 1 to i and uses the outputs at points
    i - 1, i - 2, ...; the earlier outputs sit at $\\lambda_s + r h$ with $r < 0$.
    """
    pts, lam, coeffs = grid.points(), grid.lam, []
    for i, k in enumerate(orders, start=1):
        s, t, h = pts[i - 1], pts[i], lam[i] - lam[i - 1]
        if k == 1:
            c = first_order_coefficients(algorithm_type, s, t)
        elif k == 2:  # the previous output sits at lambda_s + r h with r = -h_prev / h
            c = second_order_coefficients(
                algorithm_type, solver_type, s, t, -(lam[i - 1] - lam[i - 2]) / h
            )
        else:
            r1, r2 = -(lam[i - 1] - lam[i - 2]) / h, -(lam[i - 1] - lam[i - 3]) / h
            c = third_order_coefficients(
                algorithm_type, s, t, r1, r2, d2_weight=d2_weight
            )
        coeffs.append(c)
    return coeffs


# --8<-- [end:multistep_plan]


# --8<-- [start:stage_coefficients]
def stage_coefficients(
    noise_schedule, algorithm_type, solver_type, s: Point, t: Point, r1=None, r2=None
):
    """Intermediate points and stage weights of one singlestep step
    of order 1, 2 or 3.
    """
    alg = algorithm_type
    if r1 is None:
        return [s], [first_order_coefficients(alg, s, t)]
    s1 = between(noise_schedule, s, t, r1)
    if r2 is None:
        return [s, s1], [
            first_order_coefficients(alg, s, s1),
            second_order_coefficients(alg, solver_type, s, t, r1),
        ]
    s2 = between(noise_schedule, s, t, r2)
    final = (
        third_order_coefficients(alg, s, t, r1, r2)
        if solver_type == "taylor"
        else second_order_coefficients(alg, "taylor", s, t, r2)
    )  # DPM-Solver-3 uses only m_s2
    return [s, s1, s2], [
        first_order_coefficients(alg, s, s1),
        second_order_coefficients(alg, "taylor", s, s2, r1 / r2),
        final,
    ]


# --8<-- [end:stage_coefficients]


@dataclass(frozen=True)
class SinglestepStep:
    """One singlestep step: its stage points (s, then intermediate points) and their
    weights.
    """

    order: int
    stages: Marginals  # (order,) points: s, s_1, s_2
    end: Point  # t
    coeffs: list  # per stage: the weights of its update


# --8<-- [start:singlestep_plan]
def singlestep_orders(steps: int, order: int) -> list[int]:
    """Orders of "DPM-Solver-fast": use `steps` evaluations with as many order-`order`
    steps as fit.
    """
    if order == 3:
        k = steps // 3 + 1
        return [3] * (k - 2) + [2, 1] if steps % 3 == 0 else [3] * (k - 1) + [steps % 3]
    if order == 2:
        return [2] * (steps // 2) + [1] * (steps % 2)
    return [1] * steps


def singlestep_plan(
    noise_schedule,
    steps: int,
    t_T: float,
    t_0: float,
    order: int,
    skip_type: str,
    method: str,
    algorithm_type: str,
    solver_type: str,
) -> list[SinglestepStep]:
    """Outer grid, per-step orders, intermediate points and weights of singlestep
    DPM-Solver.
    """
    ns = noise_schedule
    if method == "singlestep":
        orders = singlestep_orders(steps, order)
        if (
            skip_type == "logSNR"
        ):  # outer steps uniform in lambda, as in the DPM-Solver paper
            outer = grid_times(ns, skip_type, t_T, t_0, len(orders))
        else:  # every order-k step spans k intervals of the fine grid
            ends = torch.cumsum(torch.tensor([0] + orders), 0)
            outer = grid_times(ns, skip_type, t_T, t_0, steps)[ends]
    else:  # singlestep_fixed
        order = min(order, steps)
        orders = [order] * (steps // order)
        outer = grid_times(ns, skip_type, t_T, t_0, len(orders))
    outer = ns.marginals(outer).points()
    plan = []
    for j, k in enumerate(orders):
        s, t = outer[j], outer[j + 1]
        # stage fractions r_k from a k-interval grid between s and t
        # (uniform in lambda for logSNR)
        lam_inner = ns.marginals(grid_times(ns, skip_type, s.t, t.t, k)).lam
        r = [
            (lam_inner[i] - lam_inner[0]) / (lam_inner[-1] - lam_inner[0])
            for i in range(1, k)
        ]
        points, coeffs = stage_coefficients(ns, algorithm_type, solver_type, s, t, *r)
        plan.append(SinglestepStep(k, table(points), t, coeffs))
    return plan


# --8<-- [end:singlestep_plan]
