"""Figures for the chapter "Score matching and NCSN"."""

import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from figures._style import PALETTE, apply_style

DEPENDS = ["src/difflearn/data/mixture.py"]
SEED = 0
FIGURES = {
    "score-matching-langevin": {
        "alt": "Two histograms of the first coordinate of Langevin particles over the exact density of a "
               "two-mode mixture with weights 0.2 on the left and 0.8 on "
               "the right. Plain Langevin puts about "
               "half the particles in each mode; annealed Langevin matches the 0.2 / 0.8 weights.",
        "caption": "Two far-apart modes with weights 0.2 / 0.8. "
                   "Plain Langevin with the exact score keeps the "
                   "split of its uniform starting points (about 0.5 / 0.5); "
                   "annealed Langevin (20 noise levels "
                   "from $\\sigma = 20$ to $0.05$) crosses between the modes while they are merged and recovers the "
                   "weights.",
    },
}


def render(quick: bool, device: str) -> dict:
    from difflearn.data import GaussianMixture

    apply_style()
    g = torch.Generator().manual_seed(SEED)
    n = 1000 if quick else 4000
    means, stds, w = [[-4.0, 0.0], [4.0, 0.0]], 0.5, [0.2, 0.8]
    far = GaussianMixture(means, stds, w)

    def langevin(p, x, delta, steps):
        for _ in range(steps):
            x = x + 0.5 * delta * p.score(x, None, None) + math.sqrt(delta) * torch.randn(
                x.shape, generator=g, dtype=x.dtype)
        return x

    start = torch.rand(n, 2, generator=g, dtype=torch.float64) * 16 - 8
    plain = langevin(far, start, 0.01, 300 if quick else 1000)
    sigmas = torch.logspace(math.log10(20.0), math.log10(0.05), 20).tolist()
    x = start
    for sigma in sigmas:
        x = langevin(GaussianMixture(means, math.sqrt(stds**2 + sigma**2), w), x, 0.2 * sigma**2,
                     20 if quick else 50)
    grid = np.linspace(-7, 7, 400)
    dens = sum(wk * np.exp(-0.5 * (grid - m[0]) ** 2 / stds**2) / math.sqrt(2 * math.pi * stds**2)
               for wk, m in zip(w, means))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), sharey=True)
    for ax, xs, title in ((axes[0], plain, "plain Langevin"), (axes[1], x, "annealed Langevin")):
        ax.hist(xs[:, 0].numpy(), bins=80, range=(-7, 7), density=True, color=PALETTE[0], alpha=0.6)
        ax.plot(grid, dens, color=PALETTE[1], lw=1.5, label="target")
        left = float((xs[:, 0] < 0).double().mean())
        ax.set_title(f"{title}: left / right = {left:.2f} / {1 - left:.2f}")
        ax.set_xlabel(r"$x_1$")
    axes[0].legend()
    return {"score-matching-langevin": fig}
