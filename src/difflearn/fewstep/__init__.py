r"""Few-step generation: change the model, not the solver.

- `distillation`: progressive distillation (Salimans & Ho, 2022): a student takes one
  DDIM step for two of its teacher's, round after round
- `consistency`: the consistency function and its boundary condition, multistep
  consistency sampling (Song et al., 2023)
- `consistency_training`: consistency distillation and improved consistency training
  (Song & Dhariwal, 2024)
- `reflow`: reflow on a flow's own pairs and the straightness of a flow (Liu et al.,
  2023)
"""

from .common import ddim_jump, make_index_batch_fn, x0_from_model
from .consistency import (
    SIGMA_DATA,
    consistency_coefficients,
    consistency_function,
    consistency_model_fn,
    consistency_sampling,
    consistency_timesteps,
    sigma_range,
)
from .consistency_training import (
    ConsistencyDistillation,
    ConsistencyTraining,
    ict_levels,
    karras_sigmas,
    lognormal_index_probs,
    pseudo_huber,
)
from .distillation import (
    distill_round,
    distillation_grid,
    pd_target,
    progressive_distillation_loss,
    student_timesteps,
    teacher_ddim,
)
from .reflow import generate_pairs, straightness, train_reflow, velocity_fn

__all__ = [
    "SIGMA_DATA",
    "ConsistencyDistillation",
    "ConsistencyTraining",
    "consistency_coefficients",
    "consistency_function",
    "consistency_model_fn",
    "consistency_sampling",
    "consistency_timesteps",
    "ddim_jump",
    "distill_round",
    "distillation_grid",
    "generate_pairs",
    "ict_levels",
    "karras_sigmas",
    "lognormal_index_probs",
    "make_index_batch_fn",
    "pd_target",
    "progressive_distillation_loss",
    "pseudo_huber",
    "sigma_range",
    "straightness",
    "student_timesteps",
    "teacher_ddim",
    "train_reflow",
    "velocity_fn",
    "x0_from_model",
]
