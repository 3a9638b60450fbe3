r"""DDIM (Song et al., 2021a) with the stochasticity knob $\eta$, and DDIM inversion.

From $x_s$ at the noisier time $s$, DDIM predicts
$\hat x_0 = (x_s - \sigma_s\hat\varepsilon)/\alpha_s$ and jumps to time $t < s$
(Song et al., 2021a, eq. 12):

$$x_t = \alpha_t \hat x_0 + \sqrt{\sigma_t^2 - \sigma_\eta^2}\;\hat\varepsilon
+ \sigma_\eta z, \qquad
\sigma_\eta = \eta\, \frac{\sigma_t}{\sigma_s}
\sqrt{1 - \frac{\alpha_s^2}{\alpha_t^2}} .$$

With $\eta = 0$ this is the exact solution of the probability-flow ODE for a noise
prediction held constant over the step — the first-order DPM-Solver, and Euler's method
for $d\bar x / d\bar\sigma = \varepsilon$ in $\bar x = x/\alpha$,
$\bar\sigma = \sigma/\alpha$ (eq. 14). With $\eta = 1$ it is DDPM's ancestral sampler
with the fixed-small variance.
"""

from __future__ import annotations

import numpy as np

from .core import Runner, linear_steps, make_grid, noise_source


# --8<-- [start:ddim_coefficients]
def ddim_coefficients(alpha: np.ndarray, sigma: np.ndarray, eta: float = 0.0):
    r"""Per-step coefficients of
    $x_{i+1} = c_x x_i + c_\varepsilon \hat\varepsilon_i + \sigma_\eta z$.

    Substituting $\hat x_0$ into eq. 12: $c_x = \alpha_{i+1}/\alpha_i$ and

    $$c_\varepsilon = \sqrt{\sigma_{i+1}^2 - \sigma_\eta^2}
    - \alpha_{i+1}\sigma_i/\alpha_i.$$
    """
    a_s, a_t, s_s, s_t = alpha[:-1], alpha[1:], sigma[:-1], sigma[1:]
    s_eta = eta * s_t / s_s * np.sqrt(np.clip(1.0 - (a_s / a_t) ** 2, 0.0, None))
    c_x = a_t / a_s
    c_eps = np.sqrt(s_t**2 - s_eta**2) - a_t * s_s / a_s
    return c_x, c_eps, s_eta


# --8<-- [end:ddim_coefficients]


def ddim(
    model_fn,
    x,
    noise_schedule,
    timesteps,
    eta: float = 0.0,
    denoise_to_zero: bool = False,
    generator=None,
    noise_sampler=None,
    callback=None,
    progress: bool = False,
):
    r"""DDIM sampling along `timesteps` (decreasing), N steps, N model evaluations.

    The arguments shared by every sampler of the zoo:

    - `model_fn(x, t) -> eps`: a noise prediction in continuous time `t` (B,).
    - `x`: (B, ...) the starting point at `timesteps[0]`.
    - `noise_schedule`: a `NoiseScheduleVP`; `timesteps`: (N + 1,) decreasing times.
    - `eta`: 0 for the deterministic DDIM, 1 for DDPM-like ancestral noise.
    - `denoise_to_zero`: finish with one more model call and return $\hat x_0$ at the
      last time (what diffusers does when the final $\bar\alpha$ is 1).
    - `generator`, `noise_sampler`: where injected noise comes from;
      `noise_sampler()` must return a tensor shaped like `x`.
    - `callback`: called with `{'x_t', 't', 'i', 'x0_pred'}` at every model evaluation.
    - `progress`: show a tqdm bar.
    """
    if not eta >= 0:
        raise ValueError(f"eta must be >= 0, got {eta!r}")
    grid = make_grid(noise_schedule, timesteps, x)
    c_x, c_eps, s_eta = (
        v.tolist() for v in ddim_coefficients(grid.alpha, grid.sigma, eta)
    )
    noise = noise_source(x, generator, noise_sampler)
    run = Runner(model_fn, x, grid, callback, progress, "DDIM")
    return linear_steps(run, x, c_x, c_eps, s_eta, noise, denoise_to_zero)


# --8<-- [start:ddim_inversion]
def ddim_inversion(
    model_fn, x, noise_schedule, timesteps, callback=None, progress: bool = False
):
    r"""Run deterministic DDIM *forwards*: from data-side $x$ at `timesteps[0]` up to
    `timesteps[-1]`.

    The $\eta = 0$ update is the same formula with the roles of $s$ and $t$ exchanged,
    so `timesteps` must be increasing. Inverting and then sampling back on the reversed
    grid returns the start up to the discretisation error (exactly, as N grows).
    """
    grid = make_grid(noise_schedule, timesteps, x, increasing=True)
    c_x, c_eps, _ = (v.tolist() for v in ddim_coefficients(grid.alpha, grid.sigma, 0.0))
    run = Runner(model_fn, x, grid, callback, progress, "DDIM inversion")
    return linear_steps(run, x, c_x, c_eps, [0.0] * grid.steps, noise=None)


# --8<-- [end:ddim_inversion]
