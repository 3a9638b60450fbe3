"""Figures for the chapter "Rectified-flow training, as in SD3"."""

import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from figures._style import PALETTE, apply_style

ROOT = Path(__file__).resolve().parents[1]
DEPENDS = ["docs/modern/results/latent-experiments.json", "src/difflearn/training/flow.py",
           "src/difflearn/schedules/flow.py"]
SEED = 0
FIGURES = {
    "rf-time-densities": {
        "alt": "Two panels. Left: three densities of the training time t on [0, 1]: flat uniform, the "
               "bell-shaped logit-normal centred at one half, and the shifted logit-normal leaning towards "
               "t = 1. Right: the same three as densities of the half log-SNR lambda: the uniform one has "
               "long tails, the logit-normal one is a Gaussian centred at 0 and the shifted one a Gaussian "
               "moved left by log 3.",
        "caption": "Where training spends its effort. Logit-normal times (SD3's default, m = 0, s = 1) are "
                   "Gaussian in λ = log((1 − t)/t); the resolution shift a = 3 moves the Gaussian by −log 3 "
                   "(more noise). Uniform t puts much of its mass at extreme noise levels.",
    },
    "rf-quality-vs-nfe": {
        "alt": "Two panels with the number of function evaluations on a logarithmic x axis from 2 to 32. "
               "Left: glyph KID times 1000, lower is better, one line per model and sampler: the UNet and DiT trained "
               "with the VP noise objective, sampled with DDIM and DPM-Solver++, and trained as rectified "
               "flows, sampled with Euler, Heun and DPM-Solver++. Right: caption accuracy (all five "
               "attributes) for the same lines.",
        "caption": "Sample quality against the number of model evaluations, at equal training budget "
                   "(5,000 steps, same latents, batches and noise), guidance scale 3. Lines: models (colour) "
                   "and samplers (marker). Numbers in the table above.",
    },
}

NAMES = {"unet-vp": "UNet, VP ε", "unet-flow": "UNet, flow", "dit-vp": "DiT, VP ε", "dit-flow": "DiT, flow",
         "mmdit-flow": "MMDiT, flow"}
MARKERS = {"DDIM": "s", "DPM-Solver++(2M)": "o", "Euler": "^", "Heun": "D"}


def render(quick: bool, device: str) -> dict:
    apply_style()
    t = np.linspace(1e-3, 1 - 1e-3, 999)
    logit = np.log(t / (1 - t))

    def lognorm(t, m=0.0, s=1.0):
        logit = np.log(t / (1 - t))
        return np.exp(-((logit - m) ** 2) / (2 * s * s)) / (s * math.sqrt(2 * math.pi) * t * (1 - t))

    a = 3.0
    # t' = a t / (1 + (a - 1) t) has density p(t(t')) dt/dt', with t = t' / (a - (a - 1) t')
    t_back = t / (a - (a - 1) * t)
    shifted = lognorm(t_back) * a / (a - (a - 1) * t) ** 2
    fig1, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    a1.plot(t, np.ones_like(t), color=PALETTE[7], label="uniform")
    a1.plot(t, lognorm(t), color=PALETTE[0], label="logit-normal (0, 1)")
    a1.plot(t, shifted, color=PALETTE[1], label="logit-normal, shift a = 3")
    a1.set_xlabel("t (0: data, 1: noise)")
    a1.set_ylabel("density")
    a1.legend()
    lam = -logit  # lambda = log((1 - t) / t); |dt/dlambda| = t (1 - t)
    a2.plot(lam, t * (1 - t), color=PALETTE[7], label="uniform")
    a2.plot(lam, np.exp(-(lam**2) / 2) / math.sqrt(2 * math.pi), color=PALETTE[0], label="logit-normal")
    a2.plot(lam, np.exp(-((lam + math.log(a)) ** 2) / 2) / math.sqrt(2 * math.pi), color=PALETTE[1],
            label="shifted")
    a2.set_xlabel("half log-SNR λ")
    a2.set_ylabel("density")
    a2.legend()

    record = json.loads((ROOT / "docs/modern/results/latent-experiments.json").read_text())
    grid = {k: v for k, v in record["grid"].items() if "unscaled" not in k}
    fig2, (b1, b2) = plt.subplots(1, 2, figsize=(10, 4))
    for i, (name, r) in enumerate(grid.items()):
        for label, rows in r["quality"].items():
            nfe = [row["nfe"] for row in rows]
            kw = dict(color=PALETTE[i], marker=MARKERS.get(label, "x"), lw=1.3, ms=5,
                      ls="-" if r["objective"] == "flow" else "--")
            b1.plot(nfe, [1000 * row["kid"] for row in rows], label=f"{NAMES.get(name, name)}, {label}", **kw)
            b2.plot(nfe, [row["caption_all"] for row in rows], **kw)
    for ax in (b1, b2):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("NFE (guided model calls)")
    b1.set_ylabel("glyph KID x 1000 (lower is better)")
    b2.set_ylabel("caption accuracy, all five")
    fig2.legend(*b1.get_legend_handles_labels(), loc="outside right center", fontsize=9)
    return {"rf-time-densities": fig1, "rf-quality-vs-nfe": fig2}
