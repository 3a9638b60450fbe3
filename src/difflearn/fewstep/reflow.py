r"""Reflow and straightness (Liu et al., 2023).

A rectified flow $dx/dt = v(x, t)$ ($t = 1$ noise, $t = 0$ data; see
`difflearn.training.flow`) couples each noise sample $z$ with the end point
$x_0 = T(z)$ of its path. *Reflow* trains a new flow on the straight lines between
these pairs (`generate_pairs`, then `train_reflow`). Its paths are straighter, so
Euler's method with few steps is more accurate. Liu et al. measure how straight a flow
is by

$$S(v) = \int_0^1 \mathbb E\,\big\|(x_1 - x_0) - v(x_t, t)\big\|^2\,dt,$$

where $x_t$ is the path from $x_1 = z$: zero exactly when every path is a straight line
run at constant speed, in which case one Euler step is exact.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..samplers.core import make_grid
from ..samplers.flow import flow_euler, flow_heun
from ..schedules.flow import FlowSchedule
from ..training.flow import flow_matching_loss, make_pairs_batch_fn
from ..training.loop import TrainConfig, TrainResult, fit


def velocity_fn(model: nn.Module, y: torch.Tensor | None = None):
    """`v(x, t)` at continuous time `t` for a network trained with `train_flow`
    (called with `1000 t`, and the labels `y` if given)."""
    if y is None:
        return lambda x, t: model(x, 1000.0 * t)
    return lambda x, t: model(x, 1000.0 * t, y)


# --8<-- [start:straightness]
@torch.no_grad()
def straightness(velocity, x1: torch.Tensor, timesteps):
    r"""Follow $dx/dt = v$ from `x1` at `timesteps[0]` (normally 1) to `timesteps[-1]`
    (normally 0) with Euler's method and return `(x0, S)`: the end points and, per
    sample, the straightness

    $$S = \sum_i (t_i - t_{i+1})\,\|(x_1 - x_0) - v(x_{t_i}, t_i)\|^2 ,$$

    the Riemann sum of $\int_0^1\|(x_1 - x_0) - v\|^2 dt$ on the grid (from $t = 1$
    to $0$). $S$ is the spread of the velocities along the path around their mean,
    $x_1 - x_0$; it is 0 when the path is straight at constant speed.
    """
    grid = make_grid(FlowSchedule(), timesteps, x1, zero_alpha_ok=True)  # t = 1: noise
    dt = (grid.t[:-1] - grid.t[1:]).tolist()
    x, vs = x1, []
    for i in range(grid.steps):
        v = velocity(x, grid.t_model[i].expand(x.shape[0]))  # (B, ...)
        vs.append(v)
        x = x - dt[i] * v
    chord = x1 - x  # x_1 - x_0
    S = sum(h * (chord - v).pow(2).flatten(1).sum(1) for h, v in zip(dt, vs))
    return x, S


# --8<-- [end:straightness]


@torch.no_grad()
def generate_pairs(
    velocity, noise: torch.Tensor, timesteps, solver: str = "heun", batch_size=1024
):
    r"""The coupling $(z, T(z))$ of a flow: solve $dx/dt = v$ from every row of
    `noise` with `flow_heun` (or `flow_euler`) on `timesteps`; returns the end
    points, row for row."""
    solvers = {"heun": flow_heun, "euler": flow_euler}
    if solver not in solvers:
        raise ValueError(f"solver must be one of {tuple(solvers)}, got {solver!r}")
    return torch.cat(
        [solvers[solver](velocity, z, timesteps) for z in noise.split(batch_size)]
    )


def train_reflow(
    model: nn.Module,
    noise: torch.Tensor,
    data: torch.Tensor,
    t_sampler: str = "uniform",
    config: TrainConfig | None = None,
    checkpoint_dir: str | Path | None = None,
    device=None,
) -> TrainResult:
    r"""Flow matching on the straight lines between fixed pairs
    (`noise[k]`, `data[k]`): the reflow step of Liu et al. (2023). Initialise `model`
    from the flow that made the pairs to fine-tune it, as they do."""
    batch = make_pairs_batch_fn(noise, data, t_sampler=t_sampler)
    return fit(
        model,
        flow_matching_loss,
        batch,
        config or TrainConfig(),
        checkpoint_dir,
        device,
    )


__all__ = ["generate_pairs", "straightness", "train_reflow", "velocity_fn"]
