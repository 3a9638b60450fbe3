r"""Editing with a trained diffusion model, no retraining.

- `sdedit`: noise a guide part of the way and denoise (Meng et al., 2022)
- `inpainting`: fill in a masked region, by replacement and RePaint's resampling
  (Lugmayr et al., 2022); `border_gap` measures how the two regions meet
- `inversion`: DDIM inversion under classifier-free guidance and null-text inversion
  (Mokady et al., 2023)
- `diffedit`: a mask from the difference of two conditions' noise predictions, then a
  masked DDIM edit (Couairon et al., 2023)
"""

from .diffedit import diffedit, diffedit_mask
from .inpainting import border_gap, repaint
from .inversion import guided_ddim, guided_eps, null_embedding, null_text_inversion
from .sdedit import sdedit, sdedit_timesteps

__all__ = [
    "border_gap",
    "diffedit",
    "diffedit_mask",
    "guided_ddim",
    "guided_eps",
    "null_embedding",
    "null_text_inversion",
    "repaint",
    "sdedit",
    "sdedit_timesteps",
]
