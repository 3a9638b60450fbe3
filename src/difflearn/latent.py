r"""Latent space helpers: the scaling factor, encoding to and decoding from it, and the
autoencoder's reconstruction error.

A diffusion model assumes its data has roughly unit scale: the noise schedule's
signal-to-noise ratio $\alpha_t^2/\sigma_t^2$ is designed for data of variance about
one (pixels in $[-1, 1]$), and the prior $x_T \sim \mathcal N(0, I)$ must match
$\alpha_T x_0 + \sigma_T\varepsilon$. An autoencoder's latents have whatever scale
training gave them. Latent diffusion (Rombach et al., 2022) therefore multiplies them
by a constant $s = 1/\hat\sigma_z$, the inverse of the standard deviation of the
latents of a batch of training images (the `scale_by_std` option of the official
code; $s = 0.18215$ for SD 1.x), diffuses $s\,z$ and divides by $s$ before decoding.
"""

from __future__ import annotations

import math

import torch

from .models.autoencoder import AutoencoderKL


# --8<-- [start:scaling_factor]
@torch.no_grad()
def latent_scaling_factor(
    vae: AutoencoderKL,
    images: torch.Tensor,
    generator: torch.Generator | None = None,
    batch_size: int = 500,
) -> float:
    r"""$s = 1/\operatorname{std}(z)$ over all entries of posterior samples
    $z \sim q_\phi(z \mid x)$ of `images`, as Stable Diffusion measures it."""
    z = torch.cat(
        [vae.encode(x).sample(generator) for x in images.split(batch_size)]
    )  # (n, 4, 8, 8)
    return float(1.0 / z.flatten().std())


# --8<-- [end:scaling_factor]


# --8<-- [start:encode_decode_latents]
@torch.no_grad()
def encode_latents(
    vae: AutoencoderKL, images: torch.Tensor, batch_size: int = 500
) -> torch.Tensor:
    r"""Scaled latents $s\,\mu_\phi(x)$ `(n, 4, 8, 8)` of images in [-1, 1] (the
    posterior mean: the latent diffusion models here train on it)."""
    p = next(vae.parameters())
    out = [vae.encode(x.to(p.device, p.dtype)).mean for x in images.split(batch_size)]
    return torch.cat(out) * vae.scaling_factor


@torch.no_grad()
def decode_latents(
    vae: AutoencoderKL, z: torch.Tensor, batch_size: int = 500
) -> torch.Tensor:
    r"""Images in [-1, 1] `(n, 3, 32, 32)` of scaled latents `z`: $\mathcal
    D(z / s)$, clamped."""
    out = [vae.decode(x / vae.scaling_factor) for x in z.split(batch_size)]
    return torch.cat(out).clamp(-1, 1)


# --8<-- [end:encode_decode_latents]


@torch.no_grad()
def reconstruction_error(vae: AutoencoderKL, images: torch.Tensor) -> dict:
    r"""Errors of $\mathcal D(\mu_\phi(x))$ against `images` (in [-1, 1]): the mean
    absolute and squared error per pixel, the PSNR on the $[0, 1]$ scale,
    $10\log_{10}(1/\mathrm{MSE}_{[0,1]})$, and the compression factor."""
    p = next(vae.parameters())
    rec = torch.cat(
        [vae(x.to(p.device, p.dtype))[0].clamp(-1, 1).cpu() for x in images.split(500)]
    )
    diff = (rec - images).double()
    mse01 = float((diff**2).mean()) / 4  # [-1, 1] -> [0, 1] divides errors by 2
    s = vae.latent_size
    return {
        "l1": round(float(diff.abs().mean()), 5),
        "mse": round(float((diff**2).mean()), 6),
        "psnr_db": round(10 * math.log10(1.0 / mse01), 2),
        "compression": images[0].numel() / (vae.latent_channels * s * s),
        "images": len(images),
    }


__all__ = [
    "decode_latents",
    "encode_latents",
    "latent_scaling_factor",
    "reconstruction_error",
]
