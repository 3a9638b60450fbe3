"""DPM-Solver and DPM-Solver++ (Lu et al., 2022a; 2022b): the official API over the
sampler core.

- `updates`: the update rules and their float64 weights (pure coefficient math)
- `plans`: grids, step orders, intermediate points and weights of a whole call (pure
  functions)
- `loops`: the multistep, singlestep and adaptive step loops
- `api`: `DPM_Solver`, the official-compatible façade (and `model_wrapper`, re-exported)
"""

from ...model_wrapper import model_wrapper
from ...schedules.vp import NoiseScheduleVP
from .api import DPM_Solver, DPMSolver
from .updates import (
    ALGORITHM_TYPES,
    SOLVER_TYPES,
    dpm_solver_first_update,
    dpm_solver_second_update,
    dpm_solver_third_update,
    dynamic_thresholding,
    first_order_coefficients,
    second_order_coefficients,
    third_order_coefficients,
)

__all__ = [
    "ALGORITHM_TYPES",
    "DPMSolver",
    "DPM_Solver",
    "NoiseScheduleVP",
    "SOLVER_TYPES",
    "dpm_solver_first_update",
    "dpm_solver_second_update",
    "dpm_solver_third_update",
    "dynamic_thresholding",
    "first_order_coefficients",
    "model_wrapper",
    "second_order_coefficients",
    "third_order_coefficients",
]
