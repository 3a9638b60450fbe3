r"""Train a text-conditioned latent denoiser: noise prediction or rectified flow, with
caption dropout.

The data are scaled latents $z_0 = s\,\mu_\phi(x)$ of the glyph images and the token
ids of their captions. A batch is the batch of `make_batch_fn` (VP: $t$ on the
schedule's grid) or `make_flow_batch_fn`'s time sampler (flow: logit-normal $t$,
as in SD3), with the captions in place of class labels. With probability
`caption_dropout` a caption is replaced by the empty caption `""` (Stable Diffusion
drops 10 %), so the same network also learns the unconditional
$\hat\varepsilon_\theta(z_t, t, \varnothing)$ that classifier-free guidance
(Ho & Salimans, 2022) extrapolates from. Both objectives then run through the
package's loss functions unchanged: `diffusion_loss` (regress $\varepsilon$) and
`flow_matching_loss` (regress $v = \varepsilon - z_0$).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..data.captions import tokenize
from ..schedules import FlowSchedule
from .flow import flow_matching_loss, sample_t_flow
from .loop import TrainConfig, TrainResult, fit
from .objectives import diffusion_loss, make_batch_fn

OBJECTIVES = ("vp", "flow")


# --8<-- [start:caption_batch]
def make_caption_batch_fn(
    latents: torch.Tensor,
    tokens: torch.Tensor,
    noise_schedule,
    caption_dropout: float = 0.1,
    sample_times=None,
):
    """`batch(generator, n) -> dict(x0, t, eps, alpha, sigma, y)` with `y` the caption
    tokens `(n, L)`, each replaced by the empty caption with probability
    `caption_dropout`."""
    if len(tokens) != len(latents):
        raise ValueError(
            f"tokens must have {len(latents)} rows (one per latent), got {len(tokens)}"
        )
    if not 0.0 <= caption_dropout <= 1.0:
        raise ValueError(f"caption_dropout must lie in [0, 1], got {caption_dropout!r}")
    index = torch.arange(len(latents))
    base = make_batch_fn(latents, noise_schedule, index, sample_times=sample_times)
    empty = tokenize("")  # (1, L): <start>, then padding

    def batch(generator: torch.Generator, n: int) -> dict:
        out = base(generator, n)  # out["y"]: the drawn indices
        drop = torch.rand(n, generator=generator) < caption_dropout  # (n,)
        out["y"] = torch.where(drop[:, None], empty, tokens[out["y"]])  # (n, L)
        return out

    return batch


# --8<-- [end:caption_batch]


def train_text_to_image(
    model: nn.Module,
    latents: torch.Tensor,
    tokens: torch.Tensor,
    objective: str = "vp",
    noise_schedule=None,
    caption_dropout: float = 0.1,
    config: TrainConfig | None = None,
    checkpoint_dir: str | Path | None = None,
    device=None,
) -> TrainResult:
    """Train `model(z_t, t_input, tokens)` on latents and caption tokens.

    Args:
        objective: `"vp"`: noise prediction on `noise_schedule` (a discrete
            `NoiseScheduleVP`); `"flow"`: rectified-flow velocity on the straight path,
            $t$ logit-normal (Esser et al., 2024).
        caption_dropout: probability of training on the empty caption.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    if objective == "vp":
        if noise_schedule is None:
            raise ValueError("objective='vp' needs a noise_schedule, got None")
        batch = make_caption_batch_fn(latents, tokens, noise_schedule, caption_dropout)
        loss = lambda m, b: diffusion_loss(m, noise_schedule, b)  # noqa: E731
    else:
        times = lambda g, n: sample_t_flow(n, g, "logit_normal")  # noqa: E731
        batch = make_caption_batch_fn(
            latents, tokens, FlowSchedule(), caption_dropout, times
        )
        loss = flow_matching_loss
    return fit(model, loss, batch, config or TrainConfig(), checkpoint_dir, device)


__all__ = ["OBJECTIVES", "make_caption_batch_fn", "train_text_to_image"]
