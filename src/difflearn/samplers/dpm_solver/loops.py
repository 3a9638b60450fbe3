r"""The step loops of DPM-Solver: multistep, singlestep and adaptive.

Each loop gets `evaluate(x, grid, i, step, stage)`, the model output ($\hat\varepsilon$
for DPM-Solver, $\hat x_0$ for DPM-Solver++) at point `i` of a `Grid`, and the weights a
plan computed; a step is then one of the `*_update` functions. `fix` is the official
`correcting_xt_fn(x, t, step)` and `intermediates`, if a list, collects the states.
"""

from __future__ import annotations

import torch

from ..core import Grid, on_device
from .plans import SinglestepStep, stage_coefficients, table
from .updates import (
    dpm_solver_first_update,
    dpm_solver_second_update,
    dpm_solver_third_update,
    first_order_coefficients,
    second_order_coefficients,
    third_order_coefficients,
)


# --8<-- [start:multistep_loop]
def multistep(
    evaluate,
    x,
    grid: Grid,
    orders: list[int],
    coeffs: list,
    fix=None,
    intermediates=None,
    iterate=range,
):
    """Multistep DPM-Solver along `grid`: one model call per step, earlier outputs
    reused. `iterate(n)` yields the step indices 0..n-1 (a progress bar, say).
    """
    steps = len(orders)
    outputs = [
        evaluate(x, grid, 0, 0)
    ]  # model outputs at earlier grid points, most recent last
    if fix is not None:
        x = fix(x, grid.t_model[0], 0)
    if intermediates is not None:
        intermediates.append(x)
    for k in iterate(steps):
        i = k + 1
        order, c = orders[i - 1], coeffs[i - 1]
        if order == 1:
            x = dpm_solver_first_update(x, outputs[-1], c)
        elif order == 2:
            x = dpm_solver_second_update(x, outputs[-1], outputs[-2], c)
        else:
            x = dpm_solver_third_update(x, outputs[-1], outputs[-2], outputs[-3], c)
        if fix is not None:
            x = fix(x, grid.t_model[i], i)
        if intermediates is not None:
            intermediates.append(x)
        if i < steps:  # the output at the last time is never needed
            outputs = outputs[-2:] + [evaluate(x, grid, i, i)]
    return x


# --8<-- [end:multistep_loop]


# --8<-- [start:singlestep_loop]
def singlestep(
    evaluate,
    x,
    plan: list[SinglestepStep],
    stages: list[Grid],
    ends: Grid,
    final_taylor: bool,
    fix=None,
    intermediates=None,
    iterate=range,
):
    """Singlestep DPM-Solver: step j evaluates the model at its stage points
    `stages[j]`.
    """
    for j in iterate(len(plan)):
        step, p = plan[j], stages[j]
        c = step.coeffs
        m_s = evaluate(x, p, 0, j, 1)
        if step.order == 1:
            x = dpm_solver_first_update(x, m_s, c[0])
        elif step.order == 2:
            m_1 = evaluate(dpm_solver_first_update(x, m_s, c[0]), p, 1, j, 2)
            x = dpm_solver_second_update(x, m_s, m_1, c[1])
        else:
            m_1 = evaluate(dpm_solver_first_update(x, m_s, c[0]), p, 1, j, 2)
            m_2 = evaluate(dpm_solver_second_update(x, m_s, m_1, c[1]), p, 2, j, 3)
            if final_taylor:
                x = dpm_solver_third_update(x, m_s, m_1, m_2, c[2])
            else:
                x = dpm_solver_second_update(x, m_s, m_2, c[2])
        if fix is not None:
            x = fix(x, ends.t_model[j], j)
        if intermediates is not None:
            intermediates.append(x)
    return x


# --8<-- [end:singlestep_loop]


def stage_grids(plan: list[SinglestepStep], x) -> tuple[list[Grid], Grid]:
    """Every stage point and step end of a singlestep plan on `x`'s device (two
    transfers in all).
    """
    flat = on_device(table([q for step in plan for q in step.stages.points()]), x)
    grids, k = [], 0
    for step in plan:
        n = len(step.stages)
        grids.append(
            Grid(
                flat.t[k : k + n],
                flat.log_alpha[k : k + n],
                flat.alpha[k : k + n],
                flat.sigma[k : k + n],
                flat.lam[k : k + n],
                flat.t_model[k : k + n],
            )
        )
        k += n
    return grids, on_device(table([step.end for step in plan]), x)


# --8<-- [start:adaptive]
def adaptive(
    evaluate,
    x,
    noise_schedule,
    algorithm_type,
    order,
    t_T,
    t_0,
    atol,
    rtol,
    solver_type,
    h_init=0.05,
    theta=0.9,
    t_err=1e-5,
    check_model=None,
    max_nfe=1000,
    progress=False,
):
    r"""DPM-Solver-12 (`order=2`) or -23 (`order=3`): adaptive steps in $\lambda$
    (Lu et al., 2022a, Sec. 4).

    Each step computes a lower- and a higher-order solution that share model
    calls, accepts when the scaled difference

    $$E = \lVert (x_\text{high} - x_\text{low}) / \max(\text{atol},
    \text{rtol}\,\max(|x_\text{low}|, |x_\text{prev}|)) \rVert_\text{RMS} \le 1,$$

    and sets $h \leftarrow \min(\theta h E^{-1/k}, \lambda_0 - \lambda_s)$
    (Jolicoeur-Martineau et al., 2021). The step size depends on the data, so this loop
    has to read $E$ on the host every step. `check_model()`, if given, runs the NaN
    check of the model outputs before a NaN error estimate is reported (so a NaN model
    output is blamed on the model).

    Steps go towards $\lambda_0$ in either direction (`t_0 > t_T` inverts: data to
    noise, $h < 0$), never past it, and the loop stops with a `RuntimeError` after
    `max_nfe` model evaluations (too tight a tolerance for the dtype never converges).
    """
    ns, alg = noise_schedule, algorithm_type
    lam = lambda t: float(ns.marginals([t]).lam[0])  # noqa: E731
    s, lambda_s, lambda_0, x_prev = t_T, lam(t_T), lam(t_0), x
    sign = 1.0 if lambda_0 >= lambda_s else -1.0  # +1: noise to data
    h = sign * min(h_init, abs(lambda_0 - lambda_s))
    nfe, per_step = 0, order
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=round(abs(lambda_0 - lambda_s), 4), desc="adaptive (lambda)")
    while abs(s - t_0) > t_err:
        if nfe + per_step > max_nfe:
            if bar is not None:
                bar.close()
            raise RuntimeError(
                f"adaptive DPM-Solver reached max_nfe={max_nfe} model evaluations at "
                f"t={s:.6g} on its way from t={t_T:.6g} to t={t_0:.6g}: the tolerances "
                f"atol={atol!r}, rtol={rtol!r} are too tight for {x.dtype} (loosen "
                "them) or the model is not smooth there; raise max_nfe to go on"
            )
        nfe += per_step
        t = float(
            ns.inverse_lambda(torch.tensor([lambda_s + h], dtype=torch.float64))[0]
        )
        m_s_, m_t_ = ns.marginals([s, t]).points()
        r = (0.5,) if order == 2 else (1.0 / 3.0, 2.0 / 3.0)
        pts, _ = stage_coefficients(ns, alg, solver_type, m_s_, m_t_, *r)
        p = on_device(table(pts), x)
        where = f"an adaptive step from t={s:.6g} to t={t:.6g}"
        m_s = evaluate(x, p, 0, where=where)
        m_1 = evaluate(
            dpm_solver_first_update(
                x, m_s, first_order_coefficients(alg, m_s_, pts[1])
            ),
            p,
            1,
            where=where,
        )
        if order == 2:
            x_lower = dpm_solver_first_update(
                x, m_s, first_order_coefficients(alg, m_s_, m_t_)
            )
            x_higher = dpm_solver_second_update(
                x,
                m_s,
                m_1,
                second_order_coefficients(alg, solver_type, m_s_, m_t_, r[0]),
            )
        else:
            x_lower = dpm_solver_second_update(
                x,
                m_s,
                m_1,
                second_order_coefficients(alg, solver_type, m_s_, m_t_, r[0]),
            )
            x_2 = dpm_solver_second_update(
                x,
                m_s,
                m_1,
                second_order_coefficients(alg, "taylor", m_s_, pts[2], r[0] / r[1]),
            )
            m_2 = evaluate(x_2, p, 2, where=where)
            if solver_type == "taylor":
                x_higher = dpm_solver_third_update(
                    x,
                    m_s,
                    m_1,
                    m_2,
                    third_order_coefficients(alg, m_s_, m_t_, r[0], r[1]),
                )
            else:
                x_higher = dpm_solver_second_update(
                    x,
                    m_s,
                    m_2,
                    second_order_coefficients(alg, "taylor", m_s_, m_t_, r[1]),
                )
        delta = torch.clamp(rtol * torch.maximum(x_lower.abs(), x_prev.abs()), min=atol)
        E = (
            ((x_higher - x_lower) / delta)
            .reshape(x.shape[0], -1)
            .square()
            .mean(-1)
            .sqrt()
            .max()
        )
        if not torch.isfinite(E):
            if check_model is not None:
                check_model()
            raise ValueError(
                f"adaptive step from t={s:.6g} produced NaN or inf "
                f"(error estimate {float(E)})"
            )
        if E <= 1.0:
            if bar is not None:
                bar.update(round(abs(lam(t) - lambda_s), 4))
            x, s, x_prev, lambda_s = x_higher, t, x_lower, lam(t)
        # the step factor is rounded to float32 as in the official code,
        # so the grids agree exactly
        h = sign * min(
            theta * abs(h) * float(torch.float_power(E, -1.0 / order).float()),
            abs(lambda_0 - lambda_s),
        )
    if bar is not None:
        bar.close()
    return x


# --8<-- [end:adaptive]


__all__ = ["adaptive", "multistep", "singlestep", "stage_grids"]
