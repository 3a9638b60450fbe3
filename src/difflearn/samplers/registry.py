r"""`METHODS`, the samplers by name, and `sample`, the one entry point to all of them.

Every sampler is called as `sampler(model_fn, x, noise_schedule, timesteps, ...,
callback=None, progress=False)`, where `model_fn(x, t)` returns the noise prediction at
continuous time `t` (what `model_wrapper` returns) and `timesteps` holds N + 1
decreasing times. A `Method` may also say how to sample from a time *range* when it
places its own points (the singlestep and adaptive DPM-Solvers do); `sample` uses that
instead of building a grid.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

from ..schedules.grids import SKIP_TYPES, time_steps
from ..validate import check_choice, check_int, check_number, check_times
from .ancestral import dpm2_ancestral, dpmpp_2s_ancestral, dpmpp_2s_sde
from .ddim import ddim
from .ddpm import ddpm
from .deis import deis, ipndm
from .dpm_solver import DPM_Solver
from .dpmpp_sde import sde_dpmpp_2m, sde_dpmpp_3m
from .edm import euler, heun
from .lms import lms
from .rk45 import rk45, rk45_on_range
from .sde import euler_maruyama, predictor_corrector
from .unipc import unipc


class Method(NamedTuple):
    """A sampler of `METHODS`: the function, one line about it, and (optionally) how it
    samples a time range when it places its own points:
    `on_range(model_fn, x, ns, steps, skip_type, t_start, t_end, **kwargs)`."""

    fn: Callable
    description: str
    on_range: Callable | None = None


# --8<-- [start:dpm_solver_on_grid]
def _dpm_solver(algorithm_type: str, description: str) -> Method:
    def on_grid(
        model_fn, x, noise_schedule, timesteps, order=2, solver_method="multistep", **kw
    ):
        if solver_method != "multistep":
            raise ValueError(
                "solver_method must be 'multistep' on a given time grid, "
                f"got {solver_method!r}: singlestep and adaptive DPM-Solver place "
                "their own intermediate points, so call sample(..., skip_type=...) "
                "or DPM_Solver.sample for them"
            )
        solver = DPM_Solver(model_fn, noise_schedule, algorithm_type=algorithm_type)
        return solver.sample_on_grid(x, timesteps, order=order, **kw)

    def on_range(
        model_fn,
        x,
        noise_schedule,
        steps,
        skip_type,
        t_start,
        t_end,
        solver_method="multistep",
        **kw,
    ):
        solver = DPM_Solver(model_fn, noise_schedule, algorithm_type=algorithm_type)
        return solver.sample(
            x,
            steps=steps,
            t_start=t_start,
            t_end=t_end,
            skip_type=skip_type,
            method=solver_method,
            **kw,
        )

    on_grid.__name__ = algorithm_type.replace("+", "p")
    on_grid.__doc__ = (
        f"Multistep DPM_Solver(algorithm_type={algorithm_type!r}) "
        "on every point of `timesteps` (see `DPM_Solver.sample_on_grid`)."
    )
    return Method(on_grid, description, on_range)


# --8<-- [end:dpm_solver_on_grid]


# --8<-- [start:methods]
METHODS: dict[str, Method] = {
    "ddpm": Method(
        ddpm, "DDPM ancestral sampling, variance='small' or 'large' (Ho et al., 2020)"
    ),
    "ddim": Method(
        ddim, "DDIM, deterministic for eta=0, DDPM-like for eta=1 (Song et al., 2021a)"
    ),
    "euler": Method(
        euler,
        "EDM Euler with optional churn; = DDIM without churn (Karras et al., 2022)",
    ),
    "heun": Method(
        heun,
        "Heun's 2nd-order method, 2 calls per step, optional churn "
        "(Karras et al., 2022)",
    ),
    "lms": Method(
        lms,
        "linear multistep (Adams-Bashforth) of order 1-4 in sigma~, 1 call per step",
    ),
    "dpm2_ancestral": Method(
        dpm2_ancestral, "DPM-Solver-2 step + ancestral noise, eta in [0, 1] ('DPM2 a')"
    ),
    "dpmpp_2s_ancestral": Method(
        dpmpp_2s_ancestral, "DPM-Solver++(2S) step + ancestral noise ('DPM++ 2S a')"
    ),
    "dpmpp_2s_sde": Method(
        dpmpp_2s_sde,
        "DPM-Solver++(2S) with both stages ancestral, 2 calls per step ('DPM++ SDE')",
    ),
    "unipc": Method(
        unipc, "UniPC-p predictor + UniC corrector, bh1/bh2 (Zhao et al., 2023)"
    ),
    "deis": Method(
        deis, "DEIS multistep, orders 1-4, basis t (tAB), rho or logrho (Zhang & Chen)"
    ),
    "ipndm": Method(
        ipndm, "iPNDM: fixed Adams-Bashforth weights on dx~/dsigma~, orders 1-4"
    ),
    "euler_maruyama": Method(
        euler_maruyama, "Euler-Maruyama, reverse VP or VE SDE (Song et al., 2021b)"
    ),
    "pc": Method(
        predictor_corrector,
        "predictor-corrector with Langevin corrector (Song et al., 2021b)",
    ),
    "sde_dpmpp_2m": Method(
        sde_dpmpp_2m,
        "SDE-DPM-Solver++(2M), midpoint or heun, eta in [0, 1] (Lu et al., 2022b)",
    ),
    "sde_dpmpp_3m": Method(
        sde_dpmpp_3m,
        "SDE-DPM-Solver++(3M), k-diffusion's 'DPM++ 3M SDE', eta in [0, 1]",
    ),
    "rk45": Method(
        rk45,
        "score_sde's adaptive RK45 on the PF-ODE in t; rtol/atol set the NFE "
        "(Song et al., 2021b)",
        rk45_on_range,
    ),
    "dpmsolver": _dpm_solver("dpmsolver", "DPM-Solver, orders 1-3 (Lu et al., 2022a)"),
    "dpmsolver++": _dpm_solver(
        "dpmsolver++", "DPM-Solver++, orders 1-3 (Lu et al., 2022b)"
    ),
}
# --8<-- [end:methods]


def default_t_end(noise_schedule) -> float:
    """1/N for a discrete schedule, 1e-3 for a continuous one
    (the official defaults).
    """
    return (
        1.0 / noise_schedule.total_N if noise_schedule.schedule == "discrete" else 1e-3
    )


# --8<-- [start:sample]
def sample(
    model_fn,
    x_T,
    noise_schedule,
    method: str = "unipc",
    steps: int | None = None,
    skip_type: str | None = None,
    t_start: float | None = None,
    t_end: float | None = None,
    timesteps=None,
    **kwargs,
):
    """Sample with any method of `METHODS` on a `steps`-step grid from `t_start` to
    `t_end`.

    `steps` (default 20) counts grid steps, not model calls (Heun and PC call the model
    more than once per step). `skip_type` (default `time_uniform`) is one of
    `time_uniform`, `logSNR`, `time_quadratic`, `karras`. Or pass `timesteps`, N + 1
    decreasing times, to use that grid instead (then leave `steps`, `skip_type`,
    `t_start` and `t_end` unset). The remaining keyword arguments go to the sampler. For
    `dpmsolver` / `dpmsolver++` they go to `DPM_Solver.sample`, whose own `method`
    argument is spelled `solver_method` here; on a custom grid only the multistep solver
    is available (`DPM_Solver.sample_on_grid`).
    """
    check_choice("method", method, METHODS)
    if timesteps is not None:
        given = {
            k: v
            for k, v in (
                ("steps", steps),
                ("skip_type", skip_type),
                ("t_start", t_start),
                ("t_end", t_end),
            )
            if v is not None
        }
        if given:
            raise ValueError(
                "timesteps is the whole grid: leave steps, skip_type, t_start and "
                f"t_end unset, got {given!r}"
            )
        return METHODS[method].fn(model_fn, x_T, noise_schedule, timesteps, **kwargs)
    steps = check_int("steps", 20 if steps is None else steps, lo=1)
    skip_type = "time_uniform" if skip_type is None else skip_type
    check_choice("skip_type", skip_type, SKIP_TYPES)
    t_start = check_number("t_start", noise_schedule.T if t_start is None else t_start)
    t_end = check_number(
        "t_end", default_t_end(noise_schedule) if t_end is None else t_end
    )
    check_times(noise_schedule, [t_start], "t_start")
    check_times(noise_schedule, [t_end], "t_end")
    if not t_end < t_start:
        raise ValueError(
            "t_end must be smaller than t_start, "
            f"got t_end={t_end!r}, t_start={t_start!r}"
        )
    if METHODS[method].on_range is not None:  # the sampler places its own points
        return METHODS[method].on_range(
            model_fn, x_T, noise_schedule, steps, skip_type, t_start, t_end, **kwargs
        )
    timesteps = time_steps(
        noise_schedule, skip_type, t_start, t_end, steps, dtype=torch.float64
    )
    return METHODS[method].fn(model_fn, x_T, noise_schedule, timesteps, **kwargs)


# --8<-- [end:sample]
