r"""Euler and Heun on the flow ODE $dx/dt = v(x, t)$ of a rectified-flow model.

A flow-matching model predicts the velocity of the straight path
$x_t = (1-t)x_0 + t\varepsilon$ (see `difflearn.training.flow`); sampling integrates
$dx/dt = v_\theta(x, t)$ from $t = 1$ (noise) down to $t = 0$ (data). Euler's step is

$$x_{t_{i+1}} = x_{t_i} + (t_{i+1} - t_i)\, v_\theta(x_{t_i}, t_i),$$

and it is DDIM with $\alpha_t = 1 - t$, $\sigma_t = t$: with `FlowSchedule` and
`model_wrapper(model, flow, model_type="flow")`, every sampler of the zoo runs on a flow
model, and these two functions are the plain velocity form a reader of SD3 or Flux code
meets. `flow_timesteps` makes the grid, with SD3's shift if asked.

`model_fn(x, t)` here is the velocity at continuous time `t` (shape `(B,)`): for a
network trained with `train_flow`, `lambda x, t: model(x, 1000 * t)`.
"""

from __future__ import annotations

import torch

from ..schedules.flow import FlowSchedule, shift_t
from ..validate import check_int, check_number
from .core import Runner, grad_option, make_grid


def flow_timesteps(
    steps: int, shift: float = 1.0, t_start: float = 1.0, t_end: float = 0.0
) -> torch.Tensor:
    """`steps + 1` times from `t_start` down to `t_end`: uniform, then shifted."""
    steps = check_int("steps", steps, lo=1)
    shift = check_number("shift", shift, 0.0, lo_open=True)
    t_start = check_number("t_start", t_start, 0.0, 1.0)
    t_end = check_number("t_end", t_end, 0.0, 1.0)
    if not t_end < t_start:
        raise ValueError(
            f"need 0 <= t_end < t_start <= 1, got t_start={t_start!r}, t_end={t_end!r}"
        )
    t = torch.linspace(t_start, t_end, steps + 1, dtype=torch.float64)
    return shift_t(t, shift) if shift != 1.0 else t


def _flow(model_fn, x, timesteps, heun, callback, progress):
    grid = make_grid(
        FlowSchedule(), timesteps, x, zero_alpha_ok=True
    )  # v at t = 1 is fine
    dt = (grid.t[1:] - grid.t[:-1]).tolist()
    run = Runner(
        model_fn, x, grid, callback, progress, "flow Heun" if heun else "flow Euler"
    )
    t = grid.t.tolist()
    for i in run.range(grid.steps):
        # --8<-- [start:flow_step]
        v = run.eps(x, i)  # the velocity dx/dt at t_i
        if callback is not None:  # x0 = x - t v on the straight path
            callback({"x_t": x, "t": grid.t_model[i], "i": i, "x0_pred": x - t[i] * v})
        x_next = x + dt[i] * v  # Euler
        if heun:  # trapezoidal correction
            x_next = x + dt[i] * 0.5 * (v + run.eps(x_next, i + 1))
        x = x_next
        # --8<-- [end:flow_step]
    return run.done(x)


@grad_option
def flow_euler(model_fn, x, timesteps, callback=None, progress: bool = False):
    """Euler's method on $dx/dt = v(x, t)$ on `timesteps`: N steps, N calls."""
    return _flow(model_fn, x, timesteps, False, callback, progress)


@grad_option
def flow_heun(model_fn, x, timesteps, callback=None, progress: bool = False):
    """Heun's method on $dx/dt = v(x, t)$ along `timesteps`: N steps, 2N model calls."""
    return _flow(model_fn, x, timesteps, True, callback, progress)


__all__ = ["flow_euler", "flow_heun", "flow_timesteps"]
