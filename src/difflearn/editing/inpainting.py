r"""Inpainting with an unconditional model: replace the known region at every step, and
RePaint's resampling (Lugmayr et al., 2022).

The mask $m$ is 1 on known pixels and 0 where the model fills in. At each step of
ancestral sampling the known region is overwritten by the input noised to the current
time,

$$x_{t} \leftarrow m \odot (\alpha_{t} x^{\text{known}} + \sigma_{t} z)
+ (1 - m) \odot x_{t}$$

("replacement"). The generated part only sees the known part through the model, one
step at a time, so it can disagree with it where they meet: the known pixels were
drawn from the forward process, not conditioned on what the model generated. RePaint
(Lugmayr et al., 2022, Algorithm 1) harmonises by *resampling*: after going down
$j$ steps (the jump length), noise the state back up $j$ steps with the forward
process, $x_{t_i} = \frac{\alpha_{t_i}}{\alpha_{t_{i+j}}} x_{t_{i+j}}
+ \sqrt{\sigma_{t_i}^2 - \frac{\alpha_{t_i}^2}{\alpha_{t_{i+j}}^2}\sigma_{t_{i+j}}^2}
\, z$, and go down again, $r$ times in all. With $r = 1$ it is plain replacement.
"""

from __future__ import annotations

import math

import torch

from ..fewstep.common import check_steps
from ..samplers.core import Runner, make_grid, noise_source
from ..samplers.ddim import ddim_coefficients


def _check_mask(mask, x):
    if mask.shape != x.shape[-mask.dim() :] and mask.shape != x.shape:
        raise ValueError(
            f"mask must have the shape of x or of its trailing dims, got "
            f"{tuple(mask.shape)} for x of shape {tuple(x.shape)}"
        )
    if not bool(((mask == 0) | (mask == 1)).all()):
        raise ValueError("mask must hold only 0 (generate) and 1 (keep)")


# --8<-- [start:repaint]
def repaint(
    model_fn,
    x_known,
    mask,
    noise_schedule,
    timesteps,
    resamplings: int = 1,
    jump_length: int = 1,
    generator=None,
    noise_sampler=None,
    callback=None,
    progress: bool = False,
):
    r"""Fill in where `mask` is 0, keeping `x_known` where it is 1.

    Ancestral (DDPM-like, `ddim` with $\eta = 1$) steps along `timesteps`, the known
    region replaced after each. With `resamplings` $r > 1$, every block of
    `jump_length` steps is gone down $r$ times, re-noised up in between (RePaint):
    $N r$ model calls for N steps. The result holds `x_known` exactly where `mask` is 1.
    """
    r, j = (
        check_steps(resamplings, "resamplings"),
        check_steps(jump_length, "jump_length"),
    )
    mask = mask.to(x_known.dtype)
    _check_mask(mask, x_known)
    grid = make_grid(noise_schedule, timesteps, x_known)
    a, s = grid.alpha.tolist(), grid.sigma.tolist()
    c_x, c_eps, s_eta = (
        v.tolist() for v in ddim_coefficients(grid.alpha, grid.sigma, 1.0)
    )
    noise = noise_source(x_known, generator, noise_sampler)
    run = Runner(model_fn, x_known, grid, callback, progress, "RePaint")

    def known(i):  # the input, noised to grid time i
        return a[i] * x_known + s[i] * noise()

    x = mask * known(0) + (1 - mask) * noise()
    for block in range(math.ceil(grid.steps / j)):
        start, stop = block * j, min((block + 1) * j, grid.steps)
        for rep in range(r):
            for i in range(start, stop):  # down: an ancestral step, then replace
                eps = run.eps(x, i, step=i)
                run.callback(i, x, eps)
                x = c_x[i] * x + c_eps[i] * eps + s_eta[i] * noise()
                x = mask * known(i + 1) + (1 - mask) * x
            if rep < r - 1:  # up: the forward process from stop back to start
                ratio = a[start] / a[stop]
                x = (
                    ratio * x
                    + math.sqrt(s[start] ** 2 - ratio**2 * s[stop] ** 2) * noise()
                )
    return run.done(mask * x_known + (1 - mask) * x)


# --8<-- [end:repaint]


# --8<-- [start:border_gap]
def border_gap(x, mask):
    r"""Mean $|x_p - x_q|$ over horizontally and vertically adjacent pixel pairs with
    $p$ known and $q$ generated: how sharply the two regions meet (`(B,)`)."""
    m = mask.to(torch.bool).expand_as(x)
    gaps, counts = 0.0, 0.0
    for dim in (-1, -2):
        n = x.shape[dim]
        a_x, b_x = x.narrow(dim, 0, n - 1), x.narrow(dim, 1, n - 1)
        a_m, b_m = m.narrow(dim, 0, n - 1), m.narrow(dim, 1, n - 1)
        cross = (a_m != b_m).to(x.dtype)  # one known, one generated
        gaps = gaps + ((a_x - b_x).abs() * cross).flatten(1).sum(1)
        counts = counts + cross.flatten(1).sum(1)
    return gaps / counts.clamp(min=1)


# --8<-- [end:border_gap]


__all__ = ["border_gap", "repaint"]
