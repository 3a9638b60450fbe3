r"""Ancestral samplers: a deterministic step to a lower noise level, then fresh noise
back up.

From $\tilde\sigma_i$ to $\tilde\sigma_{i+1}$ (EDM variables, see
`difflearn.samplers.edm`), an ancestral sampler splits the target level into a part
reached by the ODE and a part made of new noise,

$$\tilde\sigma_{i+1}^2 = \sigma_\downarrow^2 + \sigma_\uparrow^2, \qquad
\sigma_\uparrow = \eta\,\frac{\tilde\sigma_{i+1}}{\tilde\sigma_i}
\sqrt{\tilde\sigma_i^2 - \tilde\sigma_{i+1}^2},$$

solves the probability-flow ODE from $\tilde\sigma_i$ down to $\sigma_\downarrow$, and
adds $\sigma_\uparrow z$. With one Euler step this is DDIM with the same $\eta$
($\sigma_\uparrow$ is DDIM's $\sigma_\eta/\alpha_{i+1}$), which is why k-diffusion's
"Euler a" needs no function of its own here: it is `ddim(..., eta=eta)`. The two
samplers below take one *second-order* step instead, through the midpoint in $\lambda$
(the geometric mean $\sqrt{\tilde\sigma_i\sigma_\downarrow}$):

- `dpm2_ancestral`: DPM-Solver-2 in noise-prediction form ("DPM2 a");
- `dpmpp_2s_ancestral`: DPM-Solver++(2S) in data-prediction form ("DPM++ 2S a").

$\eta = 0$ gives the deterministic DPM-Solver-2 and DPM-Solver++(2S) with $r_1 = 1/2$;
$\eta = 1$ gives the DDPM-like amount of noise.

`dpmpp_2s_sde` (k-diffusion's "DPM++ SDE") makes *both* stages of DPM-Solver++(2S)
ancestral: an ancestral step to the intermediate level, where the model is called again,
then an ancestral step from $\tilde\sigma_i$ to $\tilde\sigma_{i+1}$ with the combined
data prediction.
"""

from __future__ import annotations

import numpy as np

from ..validate import check_number
from .core import (
    Runner,
    at_sigmas,
    from_ve,
    grad_option,
    make_grid,
    noise_source,
    sigma_levels,
    to_ve,
)


# --8<-- [start:ancestral_split]
def ancestral_levels(sig: np.ndarray, eta: float):
    r"""$(\sigma_\downarrow, \sigma_\uparrow)$ for every step along the levels `sig`
    (may end at 0).
    """
    s, s_next = sig[:-1], sig[1:]
    up = eta * s_next / s * np.sqrt(np.clip(s**2 - s_next**2, 0.0, None))
    down = np.sqrt(np.clip(s_next**2 - up**2, 0.0, None))
    return down, up


# --8<-- [end:ancestral_split]


def _ancestral_2s(
    model_fn,
    x,
    noise_schedule,
    timesteps,
    eta,
    s_noise,
    data_prediction,
    denoise_to_zero,
    generator,
    noise_sampler,
    callback,
    progress,
    desc,
):
    eta = check_number("eta", eta, 0.0, 1.0)
    s_noise = check_number("s_noise", s_noise, 0.0)
    grid = make_grid(noise_schedule, timesteps, x)
    sig = sigma_levels(grid, denoise_to_zero)
    down, up = ancestral_levels(sig, eta)
    n = len(down)
    mid = np.sqrt(sig[:-1] * down)  # the midpoint in lambda of each step
    at_mid = at_sigmas(
        noise_schedule, mid, x
    )  # its time and alpha (none for sigma~ = 0)
    a_mid = at_mid.alpha.tolist()
    alpha, sig_l, down_l, mid_l = (
        grid.alpha.tolist(),
        sig.tolist(),
        down.tolist(),
        mid.tolist(),
    )
    add_std = (s_noise * up).tolist()
    noise = noise_source(x, generator, noise_sampler)
    run = Runner(model_fn, x, grid, callback, progress, desc, steps=n)
    x = to_ve(x, grid)  # x~ = x / alpha
    for i in run.range(n):
        # --8<-- [start:ancestral_step]
        s, s_down, s_mid = sig_l[i], down_l[i], mid_l[i]
        eps = run.eps(alpha[i] * x, i)
        run.callback(i, alpha[i] * x, eps)
        if s_down == 0.0:  # last step to sigma~ = 0: x~ = D
            x = x - s * eps
        elif data_prediction:  # DPM-Solver++(2S), r1 = 1/2
            d = x - s * eps  # D at sigma~_i
            u = (s_mid / s) * x + (1 - s_mid / s) * d
            d_mid = u - s_mid * run.eps(a_mid[i] * u, i, at=at_mid)
            x = (s_down / s) * x + (1 - s_down / s) * d_mid
        else:  # DPM-Solver-2, r1 = 1/2
            u = x + (s_mid - s) * eps
            x = x + (s_down - s) * run.eps(a_mid[i] * u, i, at=at_mid)
        if add_std[i] > 0:
            x = x + add_std[i] * noise()  # back up to sigma~_(i+1)
        # --8<-- [end:ancestral_step]
    return run.done(from_ve(x, grid, denoise_to_zero))


@grad_option
def dpm2_ancestral(
    model_fn,
    x,
    noise_schedule,
    timesteps,
    eta: float = 1.0,
    s_noise: float = 1.0,
    denoise_to_zero: bool = False,
    generator=None,
    noise_sampler=None,
    callback=None,
    progress: bool = False,
):
    r"""DPM-Solver-2 steps to $\sigma_\downarrow$ plus ancestral noise (k-diffusion's
    "DPM2 a").

    N steps, 2N model calls (the step to $\tilde\sigma = 0$ of `denoise_to_zero` is one
    call). `eta` in [0, 1] scales the fresh noise, `s_noise` multiplies it. Other
    arguments as in `ddim`; `noise_sampler()` is called once per step that ends above
    $\tilde\sigma = 0$.
    """
    return _ancestral_2s(
        model_fn,
        x,
        noise_schedule,
        timesteps,
        eta,
        s_noise,
        False,
        denoise_to_zero,
        generator,
        noise_sampler,
        callback,
        progress,
        "DPM2 a",
    )


@grad_option
def dpmpp_2s_ancestral(
    model_fn,
    x,
    noise_schedule,
    timesteps,
    eta: float = 1.0,
    s_noise: float = 1.0,
    denoise_to_zero: bool = False,
    generator=None,
    noise_sampler=None,
    callback=None,
    progress: bool = False,
):
    r"""DPM-Solver++(2S) steps to $\sigma_\downarrow$ plus ancestral noise
    ("DPM++ 2S a").

    Arguments as in `dpm2_ancestral`.
    """
    return _ancestral_2s(
        model_fn,
        x,
        noise_schedule,
        timesteps,
        eta,
        s_noise,
        True,
        denoise_to_zero,
        generator,
        noise_sampler,
        callback,
        progress,
        "DPM++ 2S a",
    )


@grad_option
def dpmpp_2s_sde(
    model_fn,
    x,
    noise_schedule,
    timesteps,
    eta: float = 1.0,
    s_noise: float = 1.0,
    r: float = 0.5,
    denoise_to_zero: bool = False,
    generator=None,
    noise_sampler=None,
    callback=None,
    progress: bool = False,
):
    r"""DPM-Solver++(2S) with both stages ancestral (k-diffusion's "DPM++ SDE").

    Per step, with $\lambda_s = \lambda_i + r h$ and $\sigma_s = e^{-\lambda_s}$: an
    ancestral first-order step from $\tilde\sigma_i$ to $\sigma_s$ (noise split of that
    interval), a model call there, then an ancestral step from $\tilde\sigma_i$ to
    $\tilde\sigma_{i+1}$ with the data prediction
    $(1 - \frac{1}{2r})D_i + \frac{1}{2r}D_s$. $\eta = 0$ is DPM-Solver++(2S) with
    $r_1 = r$. N steps, 2N model calls; `noise_sampler()` is called twice per step that
    ends above $\tilde\sigma = 0$ (first for the intermediate level). Other arguments as
    in `dpm2_ancestral`.
    """
    eta = check_number("eta", eta, 0.0, 1.0)
    s_noise = check_number("s_noise", s_noise, 0.0)
    r = check_number("r", r, 1e-6, 1.0)
    grid = make_grid(noise_schedule, timesteps, x)
    sig = sigma_levels(grid, denoise_to_zero)
    n = len(sig) - 1
    last = sig[1:] == 0.0  # the step to sigma~ = 0: x~ = D
    s_mid = np.where(
        last, 1.0, sig[:-1] ** (1 - r) * np.where(last, 1.0, sig[1:]) ** r
    )  # e^{-lambda_s}; 1: unused
    down1, up1 = ancestral_levels(np.stack([sig[:-1], s_mid]), eta)
    down2, up2 = ancestral_levels(sig, eta)
    at_mid = at_sigmas(noise_schedule, s_mid, x)
    a_mid = at_mid.alpha.tolist()
    # per step: ratios of x~ and weights of D in the two stages
    k1 = (down1[0] / sig[:-1]).tolist()
    k2 = (down2 / sig[:-1]).tolist()
    std1, std2 = (s_noise * up1[0]).tolist(), (s_noise * up2).tolist()
    fac = 1.0 / (2.0 * r)
    alpha, sig_l, mid_l, last = (
        grid.alpha.tolist(),
        sig.tolist(),
        s_mid.tolist(),
        last.tolist(),
    )
    noise = noise_source(x, generator, noise_sampler)
    run = Runner(model_fn, x, grid, callback, progress, "DPM++ SDE", steps=n)
    x = to_ve(x, grid)  # x~ = x / alpha
    for i in run.range(n):
        # --8<-- [start:dpmpp_sde_step]
        eps = run.eps(alpha[i] * x, i)
        run.callback(i, alpha[i] * x, eps)
        d = x - sig_l[i] * eps  # D at sigma~_i
        if last[i]:
            x = d
            continue
        u = k1[i] * x + (1 - k1[i]) * d  # stage 1: ancestral step to sigma_s
        if std1[i] > 0:
            u = u + std1[i] * noise()
        d_mid = u - mid_l[i] * run.eps(a_mid[i] * u, i, at=at_mid)
        d_comb = (1 - fac) * d + fac * d_mid  # stage 2: sigma~_i -> sigma~_(i+1)
        x = k2[i] * x + (1 - k2[i]) * d_comb
        if std2[i] > 0:
            x = x + std2[i] * noise()
        # --8<-- [end:dpmpp_sde_step]
    return run.done(from_ve(x, grid, denoise_to_zero))
