r"""The samplers: one core under the whole zoo, one file per family, and `sample`.

- `core`: the precomputed time grid, the `Runner` around the model, the NaN policy, EDM
  coordinates
- `registry`: `METHODS` (every sampler by name) and `sample`, the entry point
- `ddpm`, `ddim`: DDPM ancestral sampling; DDIM with $\eta$ and DDIM inversion
- `edm`, `lms`, `ancestral`: Euler/Heun with churn, linear multistep, the ancestral "a"
  samplers (EDM variables)
- `unipc`: UniPC predictor–corrector
- `deis`: DEIS (tAB, $\rho$AB, log-$\rho$) and iPNDM; `first_step`: the analytic first
  step
- `grid_costs`, `grid_search`, `grid_cache`: optimised time grids (GITS- and AYS-style
  dynamic programming, refinement on the global error) and the cached grids of the
  shipped models
- `sde`, `dpmpp_sde`: Euler–Maruyama and predictor–corrector; SDE-DPM-Solver++
- `flow`: Euler and Heun on the flow ODE of a rectified-flow (velocity) model
- `rk45`: score_sde's adaptive Runge–Kutta solve of the probability-flow ODE (scipy)
- `dpm_solver`: DPM-Solver and DPM-Solver++ with the official API

Every sampler is a plain function `sampler(model_fn, x, noise_schedule, timesteps, ...,
callback=None, progress=False)`, where `model_fn(x, t)` returns the noise prediction at
continuous time `t` (what `model_wrapper` returns) and `timesteps` holds N + 1
decreasing times.
"""

from .ancestral import dpm2_ancestral, dpmpp_2s_ancestral, dpmpp_2s_sde
from .core import NonFiniteError
from .ddim import ddim, ddim_inversion
from .ddpm import ddpm
from .deis import deis, ipndm
from .dpm_solver import DPM_Solver, DPMSolver
from .dpmpp_sde import sde_dpmpp_2m, sde_dpmpp_3m
from .edm import euler, heun
from .first_step import analytic_first_step
from .flow import flow_euler, flow_heun, flow_timesteps
from .grid_cache import GridMismatchWarning, list_grids, load_grid
from .grid_costs import Reference, calibrate
from .grid_search import OptimisedGrid, optimise_grid
from .lms import lms
from .registry import METHODS, Method, default_t_end, sample
from .rk45 import rk45
from .sde import euler_maruyama, predictor_corrector
from .unipc import unipc

__all__ = [
    "GridMismatchWarning",
    "OptimisedGrid",
    "Reference",
    "analytic_first_step",
    "calibrate",
    "deis",
    "ipndm",
    "list_grids",
    "load_grid",
    "optimise_grid",
    "flow_euler",
    "flow_heun",
    "flow_timesteps",
    "DPMSolver",
    "DPM_Solver",
    "METHODS",
    "Method",
    "NonFiniteError",
    "ddim",
    "ddim_inversion",
    "ddpm",
    "default_t_end",
    "dpm2_ancestral",
    "dpmpp_2s_ancestral",
    "dpmpp_2s_sde",
    "euler",
    "euler_maruyama",
    "heun",
    "lms",
    "predictor_corrector",
    "rk45",
    "sample",
    "sde_dpmpp_2m",
    "sde_dpmpp_3m",
    "unipc",
]
