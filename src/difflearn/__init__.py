"""difflearn: learn diffusion models by running them.

The data flow of sampling runs one way, and the folders follow it:

    schedules/ -> model_wrapper -> samplers/core -> samplers/<family> (update rules)

- `difflearn.schedules`: the VP schedule, beta tables, time grids
- `difflearn.model_wrapper`: any network -> the noise prediction the samplers integrate
  (guidance included)
- `difflearn.samplers`: the sampler core, every sampler, `sample`, `DPM_Solver`
- `difflearn.models`: the ADM UNet of guided-diffusion and the small networks the site
  trains
- `difflearn.training`: objectives and the training loop
- `difflearn.likelihood`: log-likelihoods through the probability-flow ODE; DDPM bound
- `difflearn.fewstep`: progressive distillation, consistency models, reflow
- `difflearn.editing`: SDEdit, inpainting, inversion under guidance, DiffEdit
- `difflearn.data`: the exact Gaussian-mixture oracle, digits, 2-D point clouds
- `difflearn.pretrained`, `difflearn.metrics`, `difflearn.interop`, `difflearn.demo`:
  shipped models, digits FID, diffusers, notebooks
- `difflearn.latent`, `difflearn.pipeline`, `difflearn.glyph_metrics`: latent
  text-to-image (scaling factor, the text-to-image loop, caption accuracy)
"""

__version__ = "0.2.0"

import importlib as _importlib

from . import (
    _deprecated,
    data,
    editing,
    fewstep,
    likelihood,
    metrics,
    pretrained,
    training,
)
from .data import GaussianMixture, checkerboard, mixture_2d, moons, swiss_roll
from .model_wrapper import model_wrapper
from .models import (
    EncoderUNetModel,
    SuperResModel,
    UNetModel,
    create_model,
    load_checkpoint,
)
from .samplers import METHODS, DPM_Solver, DPMSolver, NonFiniteError, sample
from .schedules import (
    FlowSchedule,
    NoiseScheduleVP,
    alphas_cumprod_from_betas,
    beta_schedule,
    betas_from_alphas_cumprod,
    discrete_timesteps,
    log_snr,
    rescale_zero_terminal_snr,
    snr,
    time_steps,
)
from .training import TrainConfig, train_classifier, train_diffusion, train_flow

# the old module names of 0.1 (difflearn.toy, ...) as deprecated aliases
_deprecated.install()


def __getattr__(name: str):
    """`difflearn.train`, `difflearn.toy`, ...: the old module names, as deprecated
    aliases.
    """
    if f"{__name__}.{name}" in _deprecated.MOVED:
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DPM_Solver",
    "DPMSolver",
    "model_wrapper",
    "METHODS",
    "NonFiniteError",
    "sample",
    "EncoderUNetModel",
    "SuperResModel",
    "UNetModel",
    "create_model",
    "load_checkpoint",
    "GaussianMixture",
    "checkerboard",
    "mixture_2d",
    "moons",
    "swiss_roll",
    "FlowSchedule",
    "NoiseScheduleVP",
    "alphas_cumprod_from_betas",
    "beta_schedule",
    "betas_from_alphas_cumprod",
    "discrete_timesteps",
    "log_snr",
    "rescale_zero_terminal_snr",
    "snr",
    "time_steps",
    "TrainConfig",
    "train_classifier",
    "train_diffusion",
    "train_flow",
    "data",
    "editing",
    "fewstep",
    "likelihood",
    "metrics",
    "pretrained",
    "training",
]
