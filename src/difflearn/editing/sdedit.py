r"""SDEdit (Meng et al., 2022): edit by noising a guide image part of the way, then
denoising.

A guide $x^{\text{g}}$ (a sketch, a corrupted or coarse image) is pushed forward to an
intermediate time $t_0$ by the forward process,
$x_{t_0} = \alpha_{t_0} x^{\text{g}} + \sigma_{t_0} z$, and the model denoises from
there. The *strength* $s = t_0/T$ sets the trade-off: a small $s$ keeps the output
close to the guide (faithful) but keeps its flaws; $s = 1$ forgets the guide and gives
an ordinary sample (realistic). The paper denoises with the reverse SDE; its
discretisation on a grid is DDPM's ancestral step, `ddim` with $\eta = 1$ (our
default), and $\eta = 0$ gives the deterministic variant.
"""

from __future__ import annotations

import torch

from ..samplers.core import at_times, noise_source
from ..samplers.ddim import ddim
from ..schedules.grids import time_steps


def sdedit_timesteps(
    noise_schedule,
    strength: float,
    steps: int,
    skip_type: str = "time_uniform",
    t_end: float | None = None,
) -> torch.Tensor:
    r"""`steps + 1` decreasing times from
    $t_0 = t_{\text{end}} + s\,(T - t_{\text{end}})$ down to `t_end` (default: the first
    training step, or $10^{-3}$)."""
    if not 0.0 < strength <= 1.0:
        raise ValueError(f"strength must lie in (0, 1], got {strength!r}")
    if t_end is None:
        discrete = noise_schedule.schedule == "discrete"
        t_end = 1.0 / noise_schedule.total_N if discrete else 1e-3
    t0 = t_end + strength * (noise_schedule.T - t_end)
    return time_steps(noise_schedule, skip_type, t0, t_end, steps, dtype=torch.float64)


# --8<-- [start:sdedit]
def sdedit(
    model_fn,
    guide,
    noise_schedule,
    timesteps,
    eta: float = 1.0,
    generator=None,
    noise_sampler=None,
    callback=None,
    progress: bool = False,
):
    r"""Perturb `guide` to $t_0 =$ `timesteps[0]` and denoise along `timesteps` with
    `ddim` at `eta` (1: the ancestral discretisation of the reverse SDE, as in the
    paper). N steps, N model calls."""
    noise = noise_source(guide, generator, noise_sampler)
    start = at_times(noise_schedule, torch.as_tensor(timesteps)[:1], guide)
    x = float(start.alpha[0]) * guide + float(start.sigma[0]) * noise()  # x_{t0}
    return ddim(
        model_fn,
        x,
        noise_schedule,
        timesteps,
        eta=eta,
        noise_sampler=noise,
        callback=callback,
        progress=progress,
    )


# --8<-- [end:sdedit]


__all__ = ["sdedit", "sdedit_timesteps"]
