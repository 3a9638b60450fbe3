"""Figures for the chapter "DiT, line by line"."""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from figures._style import PALETTE, apply_style

ROOT = Path(__file__).resolve().parents[1]
DEPENDS = ["docs/modern/results/latent-experiments.json", "src/difflearn/weights/glyphs-vae.safetensors",
           "src/difflearn/models/dit.py"]
SEED = 0
FIGURES = {
    "dit-patchify": {
        "alt": "Left: a glyph image, a large green 3. Middle: one channel of its 8x8 latent with a grid "
               "cutting it into sixteen 2x2 patches, numbered 0 to 15 row by row. Right: the sixteen "
               "patches as the rows of a 16 by 16 matrix, each row holding the 2 x 2 x 4 numbers of one "
               "patch: the token sequence a DiT reads.",
        "caption": "Patchify: an 8x8x4 latent cut into 2x2 patches is a sequence of 16 tokens of 16 numbers "
                   "each (then embedded linearly to the model width). Token i comes from patch i, row by "
                   "row; unpatchify puts the outputs back in the same order.",
    },
    "dit-vs-unet": {
        "alt": "Three bar charts, one bar per model (UNet and DiT with the VP objective, UNet, DiT and MMDiT "
               "as rectified flows): forward MFLOP per sample, CPU seconds per guided sampling step for "
               "500 images, and caption accuracy (all five attributes) at 16 model evaluations.",
        "caption": "Backbones at about the same number of parameters and the same training recipe: compute per "
                   "forward pass, CPU time per sampling step, and sample quality (numbers in the table).",
    },
}
NAMES = {"unet-vp": "UNet\nVP", "unet-flow": "UNet\nflow", "dit-vp": "DiT\nVP", "dit-flow": "DiT\nflow",
         "mmdit-flow": "MMDiT\nflow"}


def render(quick: bool, device: str) -> dict:
    from difflearn import pretrained
    from difflearn.data import load_glyphs

    apply_style()
    vae = pretrained.load("glyphs-vae")[0]
    x = load_glyphs("test", n=20).images[4:5]
    with torch.no_grad():
        z = (vae.encode(x).mean * vae.scaling_factor)[0]  # (4, 8, 8)
    fig1, (a1, a2, a3) = plt.subplots(1, 3, figsize=(10, 3.6), gridspec_kw={"width_ratios": [1, 1, 1.1]})
    a1.imshow(((x[0] + 1) / 2).permute(1, 2, 0).numpy(), interpolation="nearest")
    a1.set_title("image 32x32x3")
    a2.imshow(z[0].numpy(), cmap="gray", interpolation="nearest")
    for k in range(1, 4):
        a2.axhline(2 * k - 0.5, color=PALETTE[1], lw=1.5)
        a2.axvline(2 * k - 0.5, color=PALETTE[1], lw=1.5)
    for i in range(16):
        r, c = divmod(i, 4)
        a2.text(2 * c + 0.5, 2 * r + 0.5, str(i), ha="center", va="center", color="k", fontsize=11,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})
    a2.set_title("latent channel 0, 2x2 patches")
    tokens = z.reshape(4, 4, 2, 4, 2).permute(1, 3, 2, 4, 0).reshape(16, 16)  # (token, p*p*C)
    a3.imshow(tokens.numpy(), cmap="gray", aspect="auto", interpolation="nearest")
    a3.set_xticks([0, 4, 8, 12])
    a3.set_yticks([0, 4, 8, 12])
    a3.set_ylabel("token")
    a3.set_xlabel("its 2 x 2 x 4 numbers")
    a3.set_title("16 tokens")
    for ax in (a1, a2):
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in (a1, a2, a3):
        ax.grid(False)
        ax.spines[:].set_visible(False)  # images need no frame

    record = json.loads((ROOT / "docs/modern/results/latent-experiments.json").read_text())
    grid = {k: v for k, v in record["grid"].items() if "unscaled" not in k}
    names = list(grid)
    fig2, axes = plt.subplots(1, 3, figsize=(10, 3.4))
    def accuracy_at_16(r):  # the default sampler of each objective, at NFE 16 (or the largest there is)
        rows = r["quality"]["DPM-Solver++(2M)" if r["objective"] == "vp" else "Euler"]
        return next((row for row in rows if row["nfe"] == 16), rows[-1])["caption_all"]

    values = [[grid[n]["mflops_per_forward"] for n in names],
              [grid[n]["cpu_s_per_step_500_guided"] for n in names],
              [accuracy_at_16(grid[n]) for n in names]]
    titles = ["MFLOP per forward", "CPU s per guided step", "caption accuracy, NFE 16"]
    for ax, vals, title in zip(axes, values, titles):
        ax.bar(np.arange(len(names)), vals, color=[PALETTE[i] for i in range(len(names))])
        ax.set_xticks(np.arange(len(names)), [NAMES.get(n, n) for n in names], fontsize=9)
        ax.set_title(title)
    return {"dit-patchify": fig1, "dit-vs-unet": fig2}
