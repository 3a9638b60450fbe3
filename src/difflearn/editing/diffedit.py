r"""DiffEdit (Couairon et al., 2023): find *where* to edit from the model itself, then
edit only there.

**The mask.** Noise the input to a middle time ($t = 0.5$ in the paper) and ask the
model for the noise under the reference condition $R$ (what the image is) and under
the query $Q$ (what it should become). Where the two conditions agree about the image,
the two predictions agree; where they disagree is the region to edit:

$$M = \operatorname{bin}\Big(\operatorname{rescale}\big(\tfrac1n\textstyle\sum_{k=1}^n
\big|\hat\varepsilon(x_t^{(k)}, t, Q) - \hat\varepsilon(x_t^{(k)}, t, R)\big|\big)
\Big),$$

averaged over $n$ noise draws (10 in the paper) and the channels, rescaled to
$[0, 1]$ and thresholded (at 0.5).

**The edit.** Encode the input with DDIM inversion up to a time $t_r$ (the encoding
ratio $r$), keeping every point $x^{\text{enc}}_{t_i}$ of the way. Decode from
$x^{\text{enc}}_{t_r}$ with the query condition, and after each step put back the
encoded latent outside the mask, $x_{t_i} \leftarrow M \odot x_{t_i}
+ (1 - M) \odot x^{\text{enc}}_{t_i}$: outside the mask the decoding retraces the
encoding, so the input comes back there (as exactly as DDIM inversion is exact).
"""

from __future__ import annotations

import torch

from ..samplers.core import Runner, make_grid
from ..samplers.ddim import ddim_coefficients, ddim_inversion


# --8<-- [start:diffedit_mask]
@torch.no_grad()
def diffedit_mask(
    query_fn,
    reference_fn,
    x0,
    noise_schedule,
    t: float = 0.5,
    n: int = 10,
    threshold: float = 0.5,
    generator=None,
):
    r"""`(mask, scores)`: the binary edit mask `(B, 1, ...)` and the rescaled
    difference of noise predictions in $[0, 1]$ it thresholds. `query_fn` and
    `reference_fn` are noise predictions `(x, t) -> eps` under $Q$ and $R$."""
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must lie in (0, 1), got {threshold!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    m = noise_schedule.marginals([t])
    alpha, sigma = float(m.alpha[0]), float(m.sigma[0])
    tt = torch.full((x0.shape[0],), t, dtype=x0.dtype, device=x0.device)
    diff = torch.zeros_like(x0)
    for _ in range(n):
        z = torch.randn(x0.shape, generator=generator, dtype=x0.dtype).to(x0.device)
        x_t = alpha * x0 + sigma * z
        diff += (query_fn(x_t, tt) - reference_fn(x_t, tt)).abs() / n
    d = diff.mean(1, keepdim=True)  # (B, 1, H, W): mean over channels
    lo = d.flatten(1).amin(1).reshape(-1, *([1] * (d.dim() - 1)))
    hi = d.flatten(1).amax(1).reshape(-1, *([1] * (d.dim() - 1)))
    scores = (d - lo) / (hi - lo).clamp(min=1e-12)  # rescaled to [0, 1] per image
    return (scores > threshold).to(x0.dtype), scores


# --8<-- [end:diffedit_mask]


# --8<-- [start:diffedit]
@torch.no_grad()
def diffedit(
    edit_fn,
    encode_fn,
    x0,
    mask,
    noise_schedule,
    timesteps,
    callback=None,
    progress: bool = False,
):
    r"""Encode `x0` with DDIM inversion under `encode_fn` along `timesteps` reversed
    (so `timesteps[0]` is $t_r$), then decode with `edit_fn`, keeping the encoded
    latents where `mask` is 0. 2N model calls for N steps."""
    timesteps = torch.as_tensor(timesteps)
    grid = make_grid(noise_schedule, timesteps, x0)
    encoded = [None] * (grid.steps + 1)  # x^enc at t_0 (= t_r) .. t_N (data side)

    def keep(d):
        encoded[grid.steps - d["i"]] = d["x_t"]

    encoded[0] = ddim_inversion(encode_fn, x0, noise_schedule, timesteps.flip(0), keep)
    c_x, c_eps, _ = (v.tolist() for v in ddim_coefficients(grid.alpha, grid.sigma))
    run = Runner(edit_fn, x0, grid, callback, progress, "DiffEdit")
    x = encoded[0]
    for i in run.range(grid.steps):
        eps = run.eps(x, i)
        run.callback(i, x, eps)
        x = c_x[i] * x + c_eps[i] * eps
        x = mask * x + (1 - mask) * encoded[i + 1]
    return run.done(x)


# --8<-- [end:diffedit]


__all__ = ["diffedit", "diffedit_mask"]
