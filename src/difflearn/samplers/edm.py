r"""Euler and Heun in the EDM formulation (Karras et al., 2022), with "churn".

Karras et al. write every diffusion model as $x = x_0 + \tilde\sigma\,\varepsilon$. A VP
model fits once we divide by $\alpha_t$: $\tilde x = x/\alpha_t$,
$\tilde\sigma = \sigma_t/\alpha_t$ $= e^{-\lambda_t}$, and the probability-flow ODE
becomes (Karras et al., 2022, eq. 4 with $s(t) = 1$, $\sigma(t) = t$)

$$\frac{d\tilde x}{d\tilde\sigma}
= \frac{\tilde x - D(\tilde x; \tilde\sigma)}{\tilde\sigma}
= \hat\varepsilon(\alpha_t \tilde x, t) .$$

Euler's method on it is DDIM; Heun's method (Algorithm 1) adds a trapezoidal correction
for second order at two model calls per step. "Churn" (Algorithm 2) first raises the
noise level $\tilde\sigma_i \to \hat\sigma_i = (1 + \gamma_i)\tilde\sigma_i$ by adding
fresh noise of variance $\hat\sigma_i^2 - \tilde\sigma_i^2$, with
$\gamma_i = \min(S_\text{churn}/N, \sqrt2 - 1)$ for
$\tilde\sigma_i \in [S_\text{tmin}, S_\text{tmax}]$ and noise scaled by
$S_\text{noise}$.
"""

from __future__ import annotations

import math

import numpy as np

from ..validate import check_number
from .core import (
    Runner,
    at_sigmas,
    at_times,
    from_ve,
    grad_option,
    make_grid,
    noise_source,
    sigma_levels,
    to_ve,
)


# --8<-- [start:churn]
def churn_levels(
    sigma_ve: np.ndarray,
    s_churn: float,
    s_tmin: float,
    s_tmax: float,
    n: int,
    sigma_max: float = math.inf,
):
    r"""$\hat\sigma_i = \min((1 + \gamma_i)\,\tilde\sigma_i,\ \tilde\sigma_{\max})$
    for every step (Karras et al., 2022, Algorithm 2).

    $\tilde\sigma_{\max} = \tilde\sigma(T)$ caps the raised level: a VP schedule has
    no time above $T$ to evaluate the model at.
    """
    gamma = min(s_churn / n, math.sqrt(2.0) - 1.0)
    s = sigma_ve[:-1]
    raised = np.where((s >= s_tmin) & (s <= s_tmax), s * (1.0 + gamma), s)
    return np.minimum(raised, np.maximum(s, sigma_max))


# --8<-- [end:churn]


def _edm(
    model_fn,
    x,
    noise_schedule,
    timesteps,
    heun,
    s_churn,
    s_tmin,
    s_tmax,
    s_noise,
    denoise_to_zero,
    generator,
    noise_sampler,
    callback,
    progress,
):
    s_churn = check_number("s_churn", s_churn, 0.0)
    s_noise = check_number("s_noise", s_noise, 0.0)
    s_tmin = check_number("s_tmin", s_tmin, 0.0)
    s_tmax = check_number("s_tmax", s_tmax, s_tmin, allow_inf=True)
    grid = make_grid(noise_schedule, timesteps, x)
    n = grid.steps + int(denoise_to_zero)  # steps, counting the one to sigma~ = 0
    sig = sigma_levels(grid, denoise_to_zero)  # (n + 1,) step ends
    top = at_times(noise_schedule, [noise_schedule.T], x, zero_alpha_ok=True)
    sig_max = float(top.sigma_ve[0])  # inf for a flow schedule (alpha_T = 0)
    sig_hat = churn_levels(sig, s_churn, s_tmin, s_tmax, n, sig_max)
    churned = sig_hat > sig[:-1]
    raised = at_sigmas(noise_schedule, sig_hat, x)  # the times of the raised levels
    cur = at_times(
        noise_schedule, np.where(churned, raised.t, grid.t[:n]), x
    )  # where step i starts
    a_cur = cur.alpha.tolist()
    add_std = (s_noise * np.sqrt(np.clip(sig_hat**2 - sig[:-1] ** 2, 0, None))).tolist()
    dsig = (sig[1:] - sig_hat).tolist()
    alpha, sig_hat = grid.alpha.tolist(), sig_hat.tolist()
    noise = noise_source(x, generator, noise_sampler)
    run = Runner(
        model_fn, x, grid, callback, progress, "Heun" if heun else "Euler", steps=n
    )
    x = to_ve(x, grid)  # x~ = x / alpha
    for i in run.range(n):
        # --8<-- [start:edm_step]
        if add_std[i] > 0:
            x = x + add_std[i] * noise()  # churn: sigma~_i -> sigma^_i
        d = run.eps(a_cur[i] * x, i, at=cur)  # dx~/dsigma~ = eps
        if callback is not None:
            callback(
                {
                    "x_t": a_cur[i] * x,
                    "t": cur.t_model[i],
                    "i": i,
                    "x0_pred": x - sig_hat[i] * d,
                }
            )
        x_next = x + dsig[i] * d  # Euler step
        if heun and sig[i + 1] > 0:  # trapezoidal correction
            d_next = run.eps(alpha[i + 1] * x_next, i + 1)
            x_next = x + dsig[i] * 0.5 * (d + d_next)
        x = x_next
        # --8<-- [end:edm_step]
    # --8<-- [start:edm_final]
    # with denoise_to_zero the last step above was Euler's to sigma~ = 0:
    # x~ - sigma^ eps = D, which is x itself (alpha = 1 there);
    # otherwise go back to VP scaling: x = alpha x~
    return run.done(from_ve(x, grid, denoise_to_zero))
    # --8<-- [end:edm_final]


@grad_option
def euler(
    model_fn,
    x,
    noise_schedule,
    timesteps,
    s_churn: float = 0.0,
    s_tmin: float = 0.0,
    s_tmax: float = float("inf"),
    s_noise: float = 1.0,
    denoise_to_zero: bool = False,
    generator=None,
    noise_sampler=None,
    callback=None,
    progress: bool = False,
):
    r"""Euler's method for $d\tilde x/d\tilde\sigma = \hat\varepsilon$ (EDM Algorithm 2
    with first order).

    N steps, N model calls. Without churn this is DDIM. `denoise_to_zero` adds the final
    step to $\tilde\sigma = 0$ (k-diffusion's and diffusers' last sigma), which returns
    $\hat x_0$; churn applies to that step too, as in EDM's Algorithm 2. Other arguments
    as in `ddim`; `x` and the result are VP-scaled.
    """
    return _edm(
        model_fn,
        x,
        noise_schedule,
        timesteps,
        False,
        s_churn,
        s_tmin,
        s_tmax,
        s_noise,
        denoise_to_zero,
        generator,
        noise_sampler,
        callback,
        progress,
    )


@grad_option
def heun(
    model_fn,
    x,
    noise_schedule,
    timesteps,
    s_churn: float = 0.0,
    s_tmin: float = 0.0,
    s_tmax: float = float("inf"),
    s_noise: float = 1.0,
    denoise_to_zero: bool = False,
    generator=None,
    noise_sampler=None,
    callback=None,
    progress: bool = False,
):
    r"""Heun's second-order method (Karras et al., 2022, Algorithms 1 and 2).

    N steps, 2N model calls; `denoise_to_zero` adds one Euler step to $\tilde\sigma = 0$
    (2N + 1 calls), as EDM does for its last step, where $\sigma_{i+1} = 0$.
    """
    return _edm(
        model_fn,
        x,
        noise_schedule,
        timesteps,
        True,
        s_churn,
        s_tmin,
        s_tmax,
        s_noise,
        denoise_to_zero,
        generator,
        noise_sampler,
        callback,
        progress,
    )
