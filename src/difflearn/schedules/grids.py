r"""Time grids for samplers.

Continuous grids (`time_steps`) go from $t_T$ down to $t_0$ in N steps and
are what DPM-Solver, UniPC and the other ODE solvers use. Discrete grids
(`discrete_timesteps`) pick N of the training steps, the way diffusers'
schedulers do with their `timestep_spacing` option.
"""

from __future__ import annotations

import numpy as np
import torch

from ..validate import check_choice, check_int, check_number, check_times

SKIP_TYPES = ("time_uniform", "logSNR", "time_quadratic", "karras")
SPACINGS = ("leading", "trailing", "linspace")


# --8<-- [start:time_steps]
def time_steps(
    noise_schedule,
    skip_type: str,
    t_T: float,
    t_0: float,
    N: int,
    device=None,
    rho: float = 7.0,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    r"""N + 1 decreasing times from `t_T` to `t_0`.

    - `'time_uniform'`: uniform in $t$.
    - `'logSNR'`: uniform in $\lambda_t$, mapped back with `inverse_lambda`
      (recommended by Lu et al., 2022 for high-resolution images).
    - `'time_quadratic'`: uniform in $\sqrt t$ (more steps near $t_0$).
    - `'karras'`: uniform in $\sigma^{1/\rho}$ with $\sigma = \sigma_t/\alpha_t$
      (Karras et al., 2022, eq. 5).

    The first three equal the official DPM-Solver `get_time_steps`; `dtype`
    defaults to torch's default dtype, as there.
    """
    check_choice("skip_type", skip_type, SKIP_TYPES)
    N = check_int("N (the number of steps)", N, lo=1)
    t_T, t_0 = check_number("t_T", t_T), check_number("t_0", t_0)
    rho = check_number("rho", rho, 0.0, lo_open=True)
    check_times(noise_schedule, [t_T, t_0], "t_T and t_0")
    if not t_0 < t_T:
        raise ValueError(f"t_0 must be smaller than t_T, got t_0={t_0!r}, t_T={t_T!r}")
    dtype = dtype or torch.get_default_dtype()
    if skip_type == "time_uniform":
        return torch.linspace(t_T, t_0, N + 1, dtype=dtype).to(device)
    if skip_type == "time_quadratic":
        return torch.linspace(t_T**0.5, t_0**0.5, N + 1, dtype=dtype).pow(2).to(device)
    ends = torch.tensor([t_T, t_0], dtype=dtype, device=device)
    lambda_T, lambda_0 = noise_schedule.marginal_lambda(ends).tolist()
    if skip_type == "logSNR":
        lambdas = torch.linspace(lambda_T, lambda_0, N + 1, dtype=dtype).to(device)
        return noise_schedule.inverse_lambda(lambdas)
    # karras: sigma = exp(-lambda) interpolated in sigma^(1/rho)
    ramp = torch.linspace(0, 1, N + 1, dtype=torch.float64)
    s_max, s_min = np.exp(-lambda_T) ** (1 / rho), np.exp(-lambda_0) ** (1 / rho)
    sigmas = (s_max + ramp * (s_min - s_max)) ** rho
    t = noise_schedule.inverse_lambda(-torch.log(sigmas).to(dtype=dtype, device=device))
    t[0], t[-1] = t_T, t_0  # pin the end points exactly
    return t


# --8<-- [end:time_steps]


# --8<-- [start:discrete_timesteps]
def discrete_timesteps(
    num_train_timesteps: int,
    num_inference_steps: int,
    spacing: str = "leading",
    steps_offset: int = 0,
) -> np.ndarray:
    """Indices of the training steps a discrete sampler visits, in decreasing order.

    - `'linspace'`: evenly spaced over `[0, N - 1]`, rounded (includes both ends).
    - `'leading'`: multiples of `N // steps`, plus `steps_offset` (DDIM's original
      choice; it never visits the last training step, so sampling starts below the top
      noise level).
    - `'trailing'`: counted down from `N - 1` in strides of `N / steps` (starts at the
      top noise level; recommended by Lin et al., 2024).

    Same as the `timestep_spacing` option of diffusers' `DDIMScheduler`.
    """
    check_choice("spacing", spacing, SPACINGS)
    N = check_int("num_train_timesteps", num_train_timesteps, lo=1)
    S = check_int("num_inference_steps", num_inference_steps, 1, N)
    top = (S - 1) * (N // S) if spacing == "leading" else None  # offset: leading only
    steps_offset = check_int(
        "steps_offset", steps_offset, 0, None if top is None else N - 1 - top
    )
    if spacing == "linspace":
        ts = np.linspace(0, N - 1, S).round()[::-1]
    elif spacing == "leading":
        ts = (np.arange(0, S) * (N // S)).round()[::-1] + steps_offset
    else:
        ts = np.round(np.arange(N, 0, -N / S)) - 1
    return ts.copy().astype(np.int64)


# --8<-- [end:discrete_timesteps]
