"""Training: objectives (what the network regresses) and the loop that minimises them.

- `difflearn.training.objectives`: time sampling, label dropout, the noise-prediction
  and classifier losses, `train_diffusion`, `train_classifier`
- `difflearn.training.flow`: flow matching on the straight path (velocity loss,
  logit-normal times, `train_flow`)
- `difflearn.training.parameterisations`: epsilon, x0, v and score heads, and the
  weightings of noise levels (SNR, min-SNR, likelihood) in one loss
- `difflearn.training.edm`: EDM's preconditioned denoiser, loss and log-normal sigma
- `difflearn.training.loop`: `fit` (AdamW, EMA, warm-up, `torchrun` data parallelism)
  and `TrainConfig`
- `difflearn.training.checkpoints`: resumable checkpoint folders (safetensors +
  weights-only state)
- `difflearn.training.autoencoder`: the KL-regularised autoencoder of latent diffusion
- `difflearn.training.text_to_image`: text-conditioned latent denoisers, VP or flow,
  with caption dropout
"""

from .autoencoder import autoencoder_loss, train_autoencoder
from .checkpoints import load_training_state, save_training_state
from .flow import (
    flow_matching_loss,
    make_flow_batch_fn,
    make_pairs_batch_fn,
    sample_t_flow,
    sample_t_logit_normal,
    train_flow,
)
from .loop import TrainConfig, TrainResult, ema_update, fit, setup_distributed
from .objectives import (
    classifier_loss,
    diffusion_loss,
    drop_labels,
    make_batch_fn,
    noised,
    sample_t,
    train_classifier,
    train_diffusion,
)
from .text_to_image import make_caption_batch_fn, train_text_to_image

__all__ = [
    "autoencoder_loss",
    "make_caption_batch_fn",
    "train_autoencoder",
    "train_text_to_image",
    "flow_matching_loss",
    "make_flow_batch_fn",
    "make_pairs_batch_fn",
    "sample_t_flow",
    "sample_t_logit_normal",
    "train_flow",
    "TrainConfig",
    "TrainResult",
    "classifier_loss",
    "diffusion_loss",
    "drop_labels",
    "ema_update",
    "fit",
    "load_training_state",
    "make_batch_fn",
    "noised",
    "sample_t",
    "save_training_state",
    "setup_distributed",
    "train_classifier",
    "train_diffusion",
]
