r"""Train the KL-regularised autoencoder of latent diffusion.

The VAE objective (Kingma & Welling, 2014) is the negative evidence lower bound,

$$-\log p(x) \le \mathbb E_{q_\phi(z\mid x)}\big[-\log p_\theta(x \mid z)\big]
+ \mathrm{KL}\big(q_\phi(z \mid x)\,\|\,\mathcal N(0, I)\big).$$

Latent diffusion (Rombach et al., 2022, Sec. 3.1) keeps its form and
changes its weights: the reconstruction term is an L1 distance (plus a perceptual
LPIPS term and a patch GAN, which need pretrained networks and are left out here),
and the KL term gets a weight of only $\beta = 10^{-6}$. The KL does not make the
autoencoder a generative model (the diffusion model will be that); it only keeps the
latents from drifting to arbitrary scales and makes the decoder robust to small
perturbations of $z$. With both terms summed over pixels and latent entries, and
divided by the $D = 3 \cdot 32 \cdot 32$ pixels,

$$L(\theta, \phi) = \frac1D\,\mathbb E_x\Big[\big\|x - \mathcal D(\mu + \sigma\odot
\varepsilon)\big\|_1 + \beta\,\mathrm{KL}\big(q_\phi(z\mid x)\,\|\,\mathcal N(0, I)
\big)\Big].$$
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .loop import TrainConfig, TrainResult, fit


def make_autoencoder_batch_fn(images: torch.Tensor, latent_shape: tuple):
    """`batch(generator, n) -> dict(x, eps)`: images and the noise of the
    reparametrisation, both drawn from the run's generator."""

    def batch(generator: torch.Generator, n: int) -> dict:
        idx = torch.randint(0, len(images), (n,), generator=generator)
        eps = torch.randn((n, *latent_shape), generator=generator)
        return {"x": images[idx], "eps": eps.to(images.dtype)}

    return batch


# --8<-- [start:autoencoder_loss]
def autoencoder_loss(
    model: nn.Module, batch: dict, kl_weight: float = 1e-6
) -> torch.Tensor:
    r"""$\frac1D\big(\|x - \mathcal D(z)\|_1 + \beta\,\mathrm{KL}\big)$, averaged over
    the batch, with $z = \mu + \sigma \odot \varepsilon$."""
    x = batch["x"]  # (B, 3, 32, 32)
    x_rec, posterior = model(x, batch["eps"])  # eps: (B, 4, 8, 8)
    rec = (x - x_rec).abs().flatten(1).sum(1)  # (B,)
    D = x[0].numel()
    return ((rec + kl_weight * posterior.kl()) / D).mean()


# --8<-- [end:autoencoder_loss]


def train_autoencoder(
    model: nn.Module,
    images: torch.Tensor,
    kl_weight: float = 1e-6,
    config: TrainConfig | None = None,
    checkpoint_dir: str | Path | None = None,
    device=None,
) -> TrainResult:
    """Train an `AutoencoderKL` on `(n, 3, H, W)` images in [-1, 1]."""
    if not kl_weight >= 0:
        raise ValueError(f"kl_weight must be >= 0, got {kl_weight!r}")
    s = model.latent_size
    batch = make_autoencoder_batch_fn(images, (model.latent_channels, s, s))
    return fit(
        model,
        lambda m, b: autoencoder_loss(m, b, kl_weight),
        batch,
        config or TrainConfig(),
        checkpoint_dir,
        device,
    )


__all__ = ["autoencoder_loss", "make_autoencoder_batch_fn", "train_autoencoder"]
