r"""Consistency models (Song et al., 2023): one network that maps any point of a
probability-flow ODE path to the path's end, so one call is a sample.

In EDM's variables $\tilde x = x_t/\alpha_t$, $\tilde\sigma = \sigma_t/\alpha_t$ the
consistency function $f(\tilde x, \tilde\sigma)$ is the ODE's end point: it is the
same for every point of one path, and at the smallest noise level it is the identity,
$f(\tilde x, \sigma_{\min}) = \tilde x$. Song et al. build the boundary condition into
the parameterisation, $f = c_{\text{skip}}(\tilde\sigma)\,\tilde x
+ c_{\text{out}}(\tilde\sigma)\,F_\theta$ with $c_{\text{skip}}(\sigma_{\min}) = 1$,
$c_{\text{out}}(\sigma_{\min}) = 0$. We take their
$c_{\text{skip}} = \sigma_d^2/((\tilde\sigma - \sigma_{\min})^2 + \sigma_d^2)$
and $c_{\text{out}} = 1 - c_{\text{skip}}$, with $F_\theta$ the
denoiser $\hat x_0 = \tilde x - \tilde\sigma\hat\varepsilon_\theta$ of an ordinary
diffusion network. Then

$$f_\theta(\tilde x, \tilde\sigma) = \tilde x
- c_{\text{out}}(\tilde\sigma)\,\tilde\sigma\,\hat\varepsilon_\theta(x_t, t),$$

so a consistency model *is* a noise predictor, $c_{\text{out}}\hat\varepsilon_\theta$,
that every sampler of the zoo accepts, and a diffusion network is a good place to start
training one: at initialisation $f_\theta$ is the network's own denoiser wherever
$c_{\text{out}} \approx 1$.
"""

from __future__ import annotations

import torch

from ..samplers.core import Runner, at_times, noise_source
from ..schedules.grids import time_steps
from .common import check_steps, column

SIGMA_DATA = 0.5


def sigma_range(noise_schedule, t_min: float | None = None) -> tuple[float, float]:
    r"""$(\sigma_{\min}, \sigma_{\max})$: $\tilde\sigma$ at `t_min` (default: the first
    training step $1/N$, or $10^{-3}$) and at $T$."""
    if t_min is None:
        discrete = noise_schedule.schedule == "discrete"
        t_min = 1.0 / noise_schedule.total_N if discrete else 1e-3
    sv = noise_schedule.marginals([t_min, noise_schedule.T]).sigma_ve
    return float(sv[0]), float(sv[1])


# --8<-- [start:boundary]
def consistency_coefficients(sigma, sigma_min: float, sigma_data: float = SIGMA_DATA):
    r"""$c_{\text{skip}} = \frac{\sigma_d^2}{(\sigma - \sigma_{\min})^2 + \sigma_d^2}$
    and $c_{\text{out}} = 1 - c_{\text{skip}}$; exactly $(1, 0)$ at
    $\sigma = \sigma_{\min}$."""
    d2 = (sigma - sigma_min) ** 2
    return sigma_data**2 / (d2 + sigma_data**2), d2 / (d2 + sigma_data**2)


def consistency_function(
    model_fn, noise_schedule, sigma_min: float, sigma_data: float = SIGMA_DATA
):
    r"""$f_\theta(\tilde x, \tilde\sigma) = \tilde x - c_{\text{out}}(\tilde\sigma)\,
    \tilde\sigma\,\hat\varepsilon_\theta(\alpha_t\tilde x, t)$ as `f(x_ve, sigma_ve)`,
    with `sigma_ve` a float or `(B,)`; `model_fn(x, t)` is a noise prediction."""

    def f(x_ve, sigma_ve):
        sigma = torch.as_tensor(sigma_ve, dtype=torch.float64).reshape(-1)
        sigma = sigma.expand(x_ve.shape[0])  # (B,)
        t = noise_schedule.sigma_to_t(sigma)
        alpha = torch.from_numpy(noise_schedule.marginals(t).alpha)
        eps = model_fn(column(alpha, x_ve) * x_ve, t.to(x_ve.device, x_ve.dtype))
        c_out = consistency_coefficients(sigma, sigma_min, sigma_data)[1]
        return x_ve - column(c_out * sigma, x_ve) * eps

    return f


# --8<-- [end:boundary]


def consistency_model_fn(
    model_fn, noise_schedule, sigma_min: float, sigma_data: float = SIGMA_DATA
):
    r"""The consistency model as a noise prediction for the samplers:
    $c_{\text{out}}(\sigma_t/\alpha_t)\,\hat\varepsilon_\theta(x_t, t)$, whose
    $\hat x_0 = (x_t - \sigma_t\cdot)/\alpha_t$ is $f_\theta$."""

    def with_marginals(x, t, alpha, sigma):
        inner = getattr(model_fn, "with_marginals", None)
        eps = model_fn(x, t) if inner is None else inner(x, t, alpha, sigma)
        c_out = consistency_coefficients(sigma / alpha, sigma_min, sigma_data)[1]
        return c_out * eps

    def cm_fn(x, t):
        m = noise_schedule.marginals(t)
        alpha, sigma = (column(torch.from_numpy(v), x) for v in (m.alpha, m.sigma))
        return with_marginals(x, t, alpha, sigma)

    cm_fn.with_marginals = with_marginals
    return cm_fn


def consistency_timesteps(
    noise_schedule, steps: int, sigma_max: float = 80.0, t_end: float | None = None
) -> torch.Tensor:
    r"""`steps` decreasing times for `consistency_sampling`: the first `steps` points
    of a grid uniform in $\lambda$ from $\tilde\sigma$ = `sigma_max` down to
    `t_end` (our choice; Song et al. tune the times by search)."""
    check_steps(steps)
    discrete = noise_schedule.schedule == "discrete"
    t_end = t_end or (1.0 / noise_schedule.total_N if discrete else 1e-3)
    t_max = float(
        noise_schedule.sigma_to_t(torch.tensor([sigma_max], dtype=torch.float64))
    )
    return time_steps(
        noise_schedule, "logSNR", t_max, t_end, steps, dtype=torch.float64
    )[:-1]


# --8<-- [start:consistency_sampling]
def consistency_sampling(
    model_fn,
    x,
    noise_schedule,
    timesteps,
    generator=None,
    noise_sampler=None,
    callback=None,
    progress: bool = False,
):
    r"""Multistep consistency sampling (Song et al., 2023, Algorithm 1): N calls on the
    N decreasing `timesteps`.

    $\hat x_0 = f(x, t_0)$; then for $n = 1, \dots, N-1$ re-noise to
    $x = \alpha_{t_n}\hat x_0 + \sigma_{t_n} z$ and denoise again,
    $\hat x_0 = f(x, t_n)$. Returns the last $\hat x_0$. `model_fn` is a noise
    prediction (`consistency_model_fn` for a consistency model; any other model gives
    its own one-step denoiser instead of $f$).
    """
    ts = torch.as_tensor(timesteps, dtype=torch.float64).reshape(-1)
    if len(ts) < 1 or not bool((ts[1:] < ts[:-1]).all()):
        raise ValueError(
            f"timesteps must be 1 or more strictly decreasing times, got {ts.tolist()}"
        )
    noise_schedule.check_t(ts, name="timesteps")
    grid = at_times(noise_schedule, ts, x)
    noise = noise_source(x, generator, noise_sampler)
    run = Runner(model_fn, x, grid, callback, progress, "consistency", steps=len(ts))
    a, s = grid.alpha.tolist(), grid.sigma.tolist()
    x0 = None
    for n in run.range(len(ts)):
        if x0 is not None:
            x = a[n] * x0 + s[n] * noise()  # back to time t_n on a fresh path
        eps = run.eps(x, n)
        run.callback(n, x, eps)
        x0 = (x - s[n] * eps) / a[n]  # f(x, t_n)
    return run.done(x0)


# --8<-- [end:consistency_sampling]


__all__ = [
    "SIGMA_DATA",
    "consistency_coefficients",
    "consistency_function",
    "consistency_model_fn",
    "consistency_sampling",
    "consistency_timesteps",
    "sigma_range",
]
