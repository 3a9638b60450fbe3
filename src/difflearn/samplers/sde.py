r"""Samplers for the reverse-time SDE (Song et al., 2021b).

The VP forward SDE $dx = -\tfrac12\beta(t)x\,dt + \sqrt{\beta(t)}\,dw$, with
$\beta(t) = -2\,d\log\alpha_t/dt$, has the reverse-time SDE (Anderson, 1982;
Song et al., 2021b, eq. 6)

$$dx = \Big[-\tfrac12\beta(t)\,x - \beta(t)\nabla_x\log p_t(x)\Big]dt
+ \sqrt{\beta(t)}\,d\bar w,
\qquad \nabla_x\log p_t(x) = -\hat\varepsilon(x, t)/\sigma_t .$$

Divided by $\alpha_t$, the same process is the VE SDE
$d\tilde x = \sqrt{d\tilde\sigma^2/dt}\,dw$ in $\tilde x = x/\alpha_t$,
$\tilde\sigma = \sigma_t/\alpha_t$. Euler–Maruyama in $x$ ("vp") and in $\tilde x$
("ve") are two discretisations of one SDE: both converge to the same distribution, at
different speeds. The predictor–corrector sampler (Song et al., 2021b, Algorithm 1 /
Appendix G) adds Langevin MCMC steps at every noise level.
"""

from __future__ import annotations

import numpy as np
import torch

from .core import (
    Runner,
    check_choice,
    linear_steps,
    make_grid,
    noise_source,
)

SDES = ("vp", "ve")


def beta_at(noise_schedule, t: np.ndarray) -> np.ndarray:
    r"""$\beta(t) = -2\,\frac{d}{dt}\log\alpha_t$, by automatic differentiation in
    float64.
    """
    with (
        torch.inference_mode(False),
        torch.enable_grad(),
    ):  # also inside no_grad() / inference_mode()
        t = torch.as_tensor(t, dtype=torch.float64).clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(
            noise_schedule.marginal_log_mean_coeff(t).sum(), t
        )
    return (-2.0 * grad).numpy()


# --8<-- [start:em_coefficients]
def em_coefficients(grid, noise_schedule, sde: str):
    r"""Coefficients of
    $x_{i+1} = c_x x_i + c_\varepsilon\hat\varepsilon_i + \text{std}_i\,z$.

    VP, with $\Delta = t_i - t_{i+1}$: $c_x = 1 + \tfrac12\beta_i\Delta$,
    $c_\varepsilon = -\beta_i\Delta/\sigma_i$, $\text{std} = \sqrt{\beta_i\Delta}$.
    VE, in $\tilde x$, with $\Delta_i = \tilde\sigma_i^2 - \tilde\sigma_{i+1}^2$:

    $$\tilde x_{i+1} = \tilde x_i - \Delta_i\,\hat\varepsilon/\tilde\sigma_i
    + \sqrt{\Delta_i}\,z,$$

    rescaled by $\alpha$ on both sides.
    """
    a, s = grid.alpha, grid.sigma
    if sde == "vp":
        beta, dt = beta_at(noise_schedule, grid.t[:-1]), grid.t[:-1] - grid.t[1:]
        return 1.0 + 0.5 * beta * dt, -beta * dt / s[:-1], np.sqrt(beta * dt)
    sv = grid.sigma_ve
    dvar = sv[:-1] ** 2 - sv[1:] ** 2
    return a[1:] / a[:-1], -a[1:] * dvar / sv[:-1], a[1:] * np.sqrt(dvar)


# --8<-- [end:em_coefficients]


def euler_maruyama(
    model_fn,
    x,
    noise_schedule,
    timesteps,
    sde: str = "vp",
    denoise_to_zero: bool = False,
    generator=None,
    noise_sampler=None,
    callback=None,
    progress: bool = False,
):
    """Euler–Maruyama for the reverse VP SDE (`sde='vp'`) or in VE coordinates (`'ve'`).

    N steps, N model calls, noise at every step. It is only first order in the weak
    sense and needs many more steps than the ODE solvers. Other arguments as in `ddim`.
    """
    check_choice("sde", sde, SDES)
    grid = make_grid(noise_schedule, timesteps, x)
    c_x, c_eps, std = (v.tolist() for v in em_coefficients(grid, noise_schedule, sde))
    noise = noise_source(x, generator, noise_sampler)
    run = Runner(model_fn, x, grid, callback, progress, "Euler-Maruyama")
    return linear_steps(run, x, c_x, c_eps, std, noise, denoise_to_zero)


def predictor_corrector(
    model_fn,
    x,
    noise_schedule,
    timesteps,
    snr: float = 0.16,
    n_corrector: int = 1,
    denoise_to_zero: bool = True,
    generator=None,
    noise_sampler=None,
    callback=None,
    progress: bool = False,
):
    r"""PC sampling: a VP Euler–Maruyama predictor and `n_corrector` Langevin corrector
    steps.

    Langevin step at time $t$ (Song et al., 2021b, Algorithm 5): with the score
    $g = -\hat\varepsilon/\sigma_t$ and fresh noise $z$,
    $\epsilon = 2\,(r\,\|z\| / \|g\|)^2$ and
    $x \leftarrow x + \epsilon g + \sqrt{2\epsilon}\,z$ ($r$ = `snr`). As in the
    reference code, $\|z\|$ and $\|g\|$ are per-sample norms averaged over the batch:
    per-sample step sizes blow up in low dimension, where $\|g\|$ can be nearly 0.
    N (1 + `n_corrector`) model calls.
    """
    if not isinstance(n_corrector, int) or n_corrector < 0:
        raise ValueError(f"n_corrector must be an int >= 0, got {n_corrector!r}")
    if not snr > 0:
        raise ValueError(f"snr must be > 0, got {snr!r}")
    grid = make_grid(noise_schedule, timesteps, x)
    c_x, c_eps, std = (v.tolist() for v in em_coefficients(grid, noise_schedule, "vp"))
    s = grid.sigma.tolist()
    noise = noise_source(x, generator, noise_sampler)
    run = Runner(model_fn, x, grid, callback, progress, "PC")
    norm = lambda v: v.reshape(v.shape[0], -1).norm(dim=1).mean()  # noqa: E731

    def langevin(x, i):
        # --8<-- [start:langevin]
        for _ in range(n_corrector):  # Langevin MCMC at fixed t_i
            grad = -run.eps(x, i) / s[i]
            z = noise()
            step = 2.0 * (snr * norm(z) / norm(grad)) ** 2
            x = x + step * grad + torch.sqrt(2.0 * step) * z
        # --8<-- [end:langevin]
        return x

    return linear_steps(
        run, x, c_x, c_eps, std, noise, denoise_to_zero, correct=langevin
    )
