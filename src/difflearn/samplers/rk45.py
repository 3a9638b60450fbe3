r"""score_sde's ODE sampler: the probability-flow ODE in $t$, solved by scipy's RK45.

Song et al. (2021b, Sec. 4.3 and their `sampling.get_ode_sampler`) hand the
probability-flow ODE to an off-the-shelf adaptive Runge–Kutta method (Dormand–Prince
5(4), scipy's `solve_ivp(method="RK45")`): the solver places its own points and the
tolerances, not a step count, set the number of model evaluations (NFE). In $t$, with
the noise prediction $\hat\varepsilon$,

$$\frac{dx}{dt} = f(t)\,x + \frac{g^2(t)}{2\sigma_t}\,\hat\varepsilon(x, t),\qquad
f(t) = \frac{d\log\alpha_t}{dt},\qquad
\frac{g^2(t)}{2\sigma_t} = -\sigma_t\frac{d\lambda_t}{dt},$$

using $g^2 = -2\sigma_t^2\,d\lambda_t/dt$ (see `difflearn.samplers.dpm_solver`). The two
coefficients come from the schedule by automatic differentiation, so every schedule
works (for a discrete table they are piecewise constant). The whole batch is one ODE
system, as in score_sde: the step size is shared by all samples.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.integrate import solve_ivp

from .core import Runner, at_times, make_grid, x0_from_eps

RK_METHODS = ("RK45", "RK23", "DOP853")


# --8<-- [start:pf_ode_coefficients]
def pf_ode_coefficients(noise_schedule, t: float) -> tuple[float, float]:
    r"""$\big(f(t),\ g^2(t)/(2\sigma_t)\big) = \big(\tfrac{d\log\alpha_t}{dt},\
    -\sigma_t\tfrac{d\lambda_t}{dt}\big)$ at one time, in float64."""
    # autograd also inside no_grad() / inference_mode() (samplers are called there)
    with torch.inference_mode(False), torch.enable_grad():
        tt = torch.tensor([float(t)], dtype=torch.float64, requires_grad=True)
        log_alpha = noise_schedule.marginal_log_mean_coeff(tt)
        lam = noise_schedule.marginal_lambda(tt)
        (d_log_alpha,) = torch.autograd.grad(log_alpha.sum(), tt, retain_graph=True)
        (d_lam,) = torch.autograd.grad(lam.sum(), tt)
    sigma = float(noise_schedule.marginals([float(t)]).sigma[0])
    return float(d_log_alpha[0]), -sigma * float(d_lam[0])


# --8<-- [end:pf_ode_coefficients]


# --8<-- [start:rk45]
def rk45(
    model_fn,
    x,
    noise_schedule,
    timesteps,
    rtol: float = 1e-5,
    atol: float = 1e-5,
    method: str = "RK45",
    denoise_to_zero: bool = False,
    return_nfe: bool = False,
    callback=None,
    progress: bool = False,
):
    r"""Solve the probability-flow ODE from `timesteps[0]` to `timesteps[-1]` with an
    adaptive Runge–Kutta method (score_sde's `ode_sampler`).

    `timesteps` holds exactly two times, start and end: the solver places its own
    points, and `rtol`, `atol` (score_sde's defaults, 1e-5) set how many it uses.
    `method` is `"RK45"` (Dormand–Prince 5(4)), `"RK23"` or `"DOP853"`.
    `denoise_to_zero` adds one model call and returns $\hat x_0$ at the end (score_sde's
    `denoise=True`). With `return_nfe` the result is `(x, nfe)`. `callback` gets
    `{'x_t', 't', 'i', 'x0_pred'}` at every model evaluation.
    """
    if method not in RK_METHODS:
        raise ValueError(f"method must be one of {RK_METHODS}, got {method!r}")
    if not (rtol > 0 and atol > 0):
        raise ValueError(f"rtol and atol must be > 0, got rtol={rtol!r}, atol={atol!r}")
    ts = torch.as_tensor(timesteps, dtype=torch.float64).reshape(-1)
    if len(ts) != 2:
        raise ValueError(
            "timesteps must hold exactly 2 times (start, end) for an adaptive solver, "
            f"got {len(ts)}; with sample(), pass t_start and t_end instead of steps"
        )
    grid = make_grid(noise_schedule, ts, x)
    run = Runner(model_fn, x, grid, None, progress, method, steps=1)
    shape, dtype = x.shape, x.dtype

    def rhs(t, y):
        xt = torch.from_numpy(y).reshape(shape).to(x.device, dtype)
        point = at_times(noise_schedule, [t], x)
        eps = run.eps(xt, 0, at=point, where=f"an {method} evaluation (t={t:.6g})")
        if callback is not None:
            x0 = x0_from_eps(xt, eps, point, 0)
            callback(
                {"x_t": xt, "t": point.t_model[0], "i": run.nfe - 1, "x0_pred": x0}
            )
        f, k = pf_ode_coefficients(noise_schedule, t)
        dx = f * xt.to(torch.float64) + k * eps.to(torch.float64)
        return dx.cpu().numpy().reshape(-1)

    y0 = x.detach().to("cpu", torch.float64).numpy().reshape(-1)
    with torch.no_grad():
        sol = solve_ivp(
            rhs, (float(ts[0]), float(ts[-1])), y0, method, rtol=rtol, atol=atol
        )
    if not sol.success:
        raise RuntimeError(f"{method} failed: {sol.message}")
    out = torch.from_numpy(np.ascontiguousarray(sol.y[:, -1])).reshape(shape)
    out = out.to(x.device, dtype)
    if denoise_to_zero:
        with torch.no_grad():
            out = x0_from_eps(
                out, run.eps(out, 1, where="the final denoising step"), grid, 1
            )
    run.done(out)
    return (out, run.nfe) if return_nfe else out


# --8<-- [end:rk45]


def rk45_on_range(
    model_fn, x, noise_schedule, steps, skip_type, t_start, t_end, **kwargs
):
    """`sample(method="rk45")`: from `t_start` to `t_end`; `steps` and `skip_type` are
    not used (the tolerances set the number of evaluations)."""
    return rk45(model_fn, x, noise_schedule, [t_start, t_end], **kwargs)


__all__ = ["RK_METHODS", "pf_ode_coefficients", "rk45", "rk45_on_range"]
