r"""DDPM ancestral sampling (Ho et al., 2020) on any grid of times.

Between two grid times $s > t$ the forward process has
$\alpha_{s|t} = \alpha_s / \alpha_t$ and $\beta_{s|t} = 1 - \alpha_{s|t}^2$; the
posterior $q(x_t \mid x_s, x_0)$ is Gaussian with (Ho et al., 2020, eqs. 6–7)

$$\tilde\mu = \frac{\alpha_t \beta_{s|t}}{\sigma_s^2}\,x_0
+ \frac{\alpha_{s|t}\,\sigma_t^2}{\sigma_s^2}\,x_s,
\qquad \tilde\beta = \frac{\sigma_t^2}{\sigma_s^2}\,\beta_{s|t} .$$

The sampler plugs in $\hat x_0 = (x_s - \sigma_s\hat\varepsilon)/\alpha_s$ and adds
noise of variance $\tilde\beta$ ("fixed-small") or $\beta_{s|t}$ ("fixed-large");
Ho et al. (sec. 3.2) found both to give similar samples. On the training grid these are
the familiar $\sigma_t^2 = \tilde\beta_t$ and $\sigma_t^2 = \beta_t$.
"""

from __future__ import annotations

import numpy as np

from .core import (
    Runner,
    check_choice,
    linear_steps,
    make_grid,
    noise_source,
)

VARIANCES = ("small", "large")


# --8<-- [start:ddpm_coefficients]
def ddpm_coefficients(alpha: np.ndarray, sigma: np.ndarray, variance: str = "small"):
    r"""Coefficients of
    $x_{i+1} = c_x x_i + c_\varepsilon\hat\varepsilon_i + \text{std}_i\, z$ (float64).
    """
    a_s, a_t, s_s, s_t = alpha[:-1], alpha[1:], sigma[:-1], sigma[1:]
    beta = 1.0 - (a_s / a_t) ** 2  # beta_{s|t}
    c_x0 = a_t * beta / s_s**2  # weight of x0_pred in the posterior mean
    c_xs = (a_s / a_t) * s_t**2 / s_s**2  # weight of x_s
    c_x = c_xs + c_x0 / a_s  # x0_pred = (x_s - sigma_s eps) / alpha_s
    c_eps = -c_x0 * s_s / a_s
    var = s_t**2 / s_s**2 * beta if variance == "small" else beta
    return c_x, c_eps, np.sqrt(var)


# --8<-- [end:ddpm_coefficients]


def ddpm(
    model_fn,
    x,
    noise_schedule,
    timesteps,
    variance: str = "small",
    denoise_to_zero: bool = False,
    generator=None,
    noise_sampler=None,
    callback=None,
    progress: bool = False,
):
    """DDPM ancestral sampling along decreasing `timesteps` (N steps, N model
    evaluations).

    `variance` is `'small'` ($\\tilde\\beta$) or `'large'` ($\\beta$). With
    `denoise_to_zero` the last step goes to $\\alpha = 1$: it returns $\\hat x_0$
    without noise, as DDPM's final step $t = 1$ does. Other arguments as in `ddim`.
    """
    check_choice("variance", variance, VARIANCES)
    grid = make_grid(noise_schedule, timesteps, x)
    c_x, c_eps, std = (
        v.tolist() for v in ddpm_coefficients(grid.alpha, grid.sigma, variance)
    )
    noise = noise_source(x, generator, noise_sampler)
    run = Runner(model_fn, x, grid, callback, progress, "DDPM")
    return linear_steps(run, x, c_x, c_eps, std, noise, denoise_to_zero)
