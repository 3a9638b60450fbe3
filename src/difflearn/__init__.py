"""difflearn: learn diffusion models by running them."""

__version__ = "0.1.0"

from . import data, metrics, pretrained, train  # modules: difflearn.pretrained.load(...), ...
from .betas import (
    alphas_cumprod_from_betas,
    beta_schedule,
    betas_from_alphas_cumprod,
    log_snr,
    rescale_zero_terminal_snr,
    snr,
)
from .dpm_solver import DPM_Solver, DPMSolver, model_wrapper
from .models import EncoderUNetModel, SuperResModel, UNetModel, create_model, load_checkpoint
from .samplers import METHODS, sample
from .schedules import NoiseScheduleVP
from .timesteps import discrete_timesteps, time_steps
from .toy import GaussianMixture, checkerboard, mixture_2d, moons, swiss_roll
from .train import TrainConfig, train_classifier, train_diffusion

__all__ = [
    "DPM_Solver",
    "DPMSolver",
    "model_wrapper",
    "METHODS",
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
    "data",
    "metrics",
    "pretrained",
    "train",
]
