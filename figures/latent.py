"""Figures for the chapter "Latent diffusion: an autoencoder first"."""

import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from figures._style import PALETTE, apply_style

DEPENDS = ["src/difflearn/weights/glyphs-vae.safetensors", "src/difflearn/weights/glyphs-vae.json",
           "src/difflearn/models/autoencoder.py", "src/difflearn/latent.py", "src/difflearn/data/glyphs.py"]
SEED = 0
FIGURES = {
    "latent-reconstructions": {
        "alt": "A grid of eight columns. Row 1: eight glyph test images. Row 2: their reconstructions "
               "by the autoencoder, nearly identical but slightly softer. Row 3: the absolute error, "
               "dark except faint outlines along the glyph edges. Rows 4 to 7: the four channels of "
               "each 8x8 latent as grey-scale maps, blocky images in which the glyph's position and "
               "rough shape are visible.",
        "caption": "Test images (never seen in training), their reconstructions D(mean of q(z|x)) by "
                   "glyphs-vae, the absolute error (scaled x4 for visibility) and the four channels of each "
                   "8x8 latent. 3,072 numbers go in, 256 come out of the encoder.",
    },
    "latent-snr": {
        "alt": "Two panels. Left: half log-SNR against the step index on Stable Diffusion's "
               "scaled-linear schedule for scaled latents (the schedule as designed) and for unscaled "
               "latents, a curve shifted up by a constant, with the last-step values marked. Right: "
               "histograms of latent entries before and after scaling, the scaled one matching the "
               "standard normal density drawn over it.",
        "caption": "Left: the noise levels a model sees on SD's schedule with the latents scaled by s and "
                   "without (λ moves up by log σ_z at every step; the last step is then far from pure "
                   "noise). Right: the distribution of latent entries of 2,000 training images before and "
                   "after scaling, against N(0, 1).",
    },
}


def _rgb(x):
    return ((x.clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy()


def render(quick: bool, device: str) -> dict:
    from difflearn import NoiseScheduleVP, beta_schedule, pretrained
    from difflearn.data import load_glyphs
    from difflearn.latent import encode_latents

    apply_style()
    vae = pretrained.load("glyphs-vae")[0]
    x = load_glyphs("test", n=8).images
    with torch.no_grad():
        mean = vae.encode(x).mean  # (8, 4, 8, 8)
        rec = vae.decode(mean).clamp(-1, 1)
    fig1, axes = plt.subplots(7, 8, figsize=(9, 8.2))
    lo, hi = float(mean.min()), float(mean.max())
    for j in range(8):
        axes[0, j].imshow(_rgb(x[j]), interpolation="nearest")
        axes[1, j].imshow(_rgb(rec[j]), interpolation="nearest")
        err = ((rec[j] - x[j]).abs().mean(0) / 2 * 4).clamp(0, 1)
        axes[2, j].imshow(err.numpy(), cmap="magma", vmin=0, vmax=1, interpolation="nearest")
        for c in range(4):
            axes[3 + c, j].imshow(mean[j, c].numpy(), cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
    labels = ["image", "decoded", "|error| x4", "latent ch. 0", "latent ch. 1", "latent ch. 2",
              "latent ch. 3"]
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        ax.spines[:].set_visible(False)  # images need no frame
        if i % 8 == 0:
            ax.set_ylabel(labels[i // 8], fontsize=10)

    images = load_glyphs("train", n=500 if quick else 2000).images
    z = encode_latents(vae, images) / vae.scaling_factor  # unscaled means
    sigma_z = 1 / vae.scaling_factor
    ns = NoiseScheduleVP("discrete", betas=beta_schedule("scaled_linear", 1000))
    n = np.arange(1000)
    lam = ns.marginals((n + 1) / 1000).lam
    fig2, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    a1.plot(n, lam, color=PALETTE[0], label="scaled latents (std 1)")
    a1.plot(n, lam + math.log(sigma_z), color=PALETTE[1], label=f"unscaled (std {sigma_z:.2f})")
    for curve, color in ((lam, PALETTE[0]), (lam + math.log(sigma_z), PALETTE[1])):
        a1.plot([999], [curve[-1]], "o", color=color)
    a1.axhline(0, color="0.5", lw=0.8)
    a1.set_xlabel("step n (SD's scaled-linear schedule)")
    a1.set_ylabel("half log-SNR λ")
    a1.legend()
    grid = np.linspace(-4, 4, 200)
    bins = np.linspace(-4 * max(1, sigma_z), 4 * max(1, sigma_z), 80)
    a2.hist(z.flatten().numpy(), bins=bins, density=True, alpha=0.5, color=PALETTE[1], label="unscaled")
    a2.hist((z * vae.scaling_factor).flatten().numpy(), bins=bins, density=True, alpha=0.5, color=PALETTE[0],
            label="scaled by s")
    a2.plot(grid, np.exp(-grid**2 / 2) / math.sqrt(2 * math.pi), color="k", lw=1.2, label="N(0, 1)")
    a2.set_xlabel("latent entry")
    a2.set_ylabel("density")
    a2.legend()
    return {"latent-reconstructions": fig1, "latent-snr": fig2}
