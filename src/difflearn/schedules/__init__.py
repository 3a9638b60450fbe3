r"""Noise schedules: the VP schedule, named beta tables and the time grids
samplers step on.

- `difflearn.schedules.vp`: `NoiseScheduleVP` (official DPM-Solver API) and `Marginals`,
  its float64 table
- `difflearn.schedules.betas`: named beta schedules and $\bar\alpha$ / SNR conversions
- `difflearn.schedules.flow`: `FlowSchedule`, the straight path of rectified flow
  ($\alpha_t = 1 - t$, $\sigma_t = t$), and SD3's time shift `shift_t`
- `difflearn.schedules.grids`: continuous time grids (`time_steps`) and discrete ones
  (`discrete_timesteps`)
"""

from .betas import (
    BETA_SCHEDULES,
    alphas_cumprod_from_betas,
    beta_schedule,
    betas_from_alphas_cumprod,
    check_alphas_cumprod,
    check_betas,
    log_snr,
    rescale_zero_terminal_snr,
    snr,
)
from .flow import FlowSchedule, shift_t
from .grids import SKIP_TYPES, SPACINGS, discrete_timesteps, time_steps
from .vp import SCHEDULES, Marginals, NoiseScheduleVP, Point, interpolate

__all__ = [
    "BETA_SCHEDULES",
    "FlowSchedule",
    "shift_t",
    "SCHEDULES",
    "SKIP_TYPES",
    "SPACINGS",
    "Marginals",
    "NoiseScheduleVP",
    "Point",
    "alphas_cumprod_from_betas",
    "beta_schedule",
    "betas_from_alphas_cumprod",
    "check_alphas_cumprod",
    "check_betas",
    "discrete_timesteps",
    "interpolate",
    "log_snr",
    "rescale_zero_terminal_snr",
    "snr",
    "time_steps",
]
