r"""Linear multistep (Adams–Bashforth) in the EDM variable: the "LMS" sampler.

The probability-flow ODE in EDM's variables is
$d\tilde x/d\tilde\sigma = \hat\varepsilon$ (see `difflearn.samplers.edm`). A linear
multistep method of order $p$ keeps the last $p$ slopes
$\hat\varepsilon_i, \dots, \hat\varepsilon_{i-p+1}$, fits the polynomial through them
(as a function of $\tilde\sigma$), and integrates it exactly over the step:

$$\tilde x_{i+1} = \tilde x_i + \sum_{j=0}^{p-1} c_{ij}\,\hat\varepsilon_{i-j}, \qquad
c_{ij} = \int_{\tilde\sigma_i}^{\tilde\sigma_{i+1}} \ell_{ij}(\sigma)\,d\sigma ,$$

where $\ell_{ij}$ is the Lagrange basis polynomial that is 1 at $\tilde\sigma_{i-j}$ and
0 at the other $p - 1$ nodes. One model call per step, like DDIM, but order $p$
(k-diffusion's `sample_lms` with `order=4` is the web UIs' "LMS"; diffusers has it as
`LMSDiscreteScheduler`). On an uneven grid the weights change from step to step; they
are computed once, exactly, before the loop.
"""

from __future__ import annotations

import numpy as np

from ..validate import check_int
from .core import Runner, from_ve, grad_option, make_grid, sigma_levels, to_ve


# --8<-- [start:lms_coefficients]
def lms_coefficients(sig: np.ndarray, order: int) -> list[list[float]]:
    r"""The weights $c_{ij}$ of every step along the noise levels `sig` (decreasing, may
    end at 0).

    Step $i$ uses $p = \min(i + 1, \text{order})$ slopes. In the scaled variable
    $v = (\sigma - \tilde\sigma_i)/h_i$ the nodes are $v_j$ and the step is $[0, 1]$;
    writing $\ell_{ij}(v) = \sum_m A_{mj} v^m$, the Vandermonde system
    $V A = I$ ($V_{km} = v_k^m$) gives
    $c_{ij} = h_i \sum_m A_{mj} / (m + 1)$, i.e. $c_i = h_i\,V^{-\top} w$ with
    $w_m = 1/(m+1)$: one batched solve for all steps of the same $p$.
    """
    sig = np.asarray(sig, dtype=np.float64)
    n = len(sig) - 1
    steps = np.arange(n)
    p_of = np.minimum(steps + 1, order)
    out = np.zeros((n, order))
    for p in range(1, order + 1):
        i = steps[p_of == p]
        if not len(i):
            continue
        h = sig[i + 1] - sig[i]  # (m,)
        v = np.stack([(sig[i - j] - sig[i]) / h for j in range(p)], 1)  # (m, p) nodes
        V = v[:, :, None] ** np.arange(p)  # (m, p, p): V[k, m] = v_k^m
        w = np.broadcast_to(1.0 / np.arange(1, p + 1), (len(i), p))[..., None]
        out[i, :p] = h[:, None] * np.linalg.solve(V.transpose(0, 2, 1), w)[..., 0]
    return [row[:p].tolist() for row, p in zip(out, p_of.tolist())]


# --8<-- [end:lms_coefficients]


@grad_option
def lms(
    model_fn,
    x,
    noise_schedule,
    timesteps,
    order: int = 4,
    denoise_to_zero: bool = False,
    callback=None,
    progress: bool = False,
):
    r"""Linear multistep of order `order` (1-4) on
    $d\tilde x/d\tilde\sigma = \hat\varepsilon$.

    N steps, N model calls; order 1 is DDIM. With `denoise_to_zero` the last step goes
    to $\tilde\sigma = 0$ with the same polynomial (k-diffusion's `sample_lms` on its
    grid ending in 0), one more model call. Other arguments as in `ddim`.
    """
    order = check_int("order", order, 1, 4)
    grid = make_grid(noise_schedule, timesteps, x)
    coeffs = lms_coefficients(sigma_levels(grid, denoise_to_zero), order)
    alpha = grid.alpha.tolist()
    run = Runner(model_fn, x, grid, callback, progress, "LMS", steps=len(coeffs))
    x = to_ve(x, grid)  # x~ = x / alpha
    slopes = []  # eps_i, eps_(i-1), ...
    for i in run.range(len(coeffs)):
        # --8<-- [start:lms_step]
        eps = run.eps(alpha[i] * x, i)  # the slope d x~ / d sigma~
        run.callback(i, alpha[i] * x, eps)
        slopes = [eps] + slopes[: order - 1]
        x = x + sum(c * d for c, d in zip(coeffs[i], slopes))
        # --8<-- [end:lms_step]
    return run.done(from_ve(x, grid, denoise_to_zero))
