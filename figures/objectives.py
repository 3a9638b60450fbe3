"""Figures of the four-objective digits experiment, drawn from its committed results
(docs/training/objectives-cpu.json, written by `python -m tools.train_objectives`)."""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter, ScalarFormatter

from figures._style import PALETTE, apply_style

DEPENDS = ["docs/training/objectives-cpu.json"]
SEED = 0
RESULTS = Path(__file__).resolve().parents[1] / "docs" / "training" / "objectives-cpu.json"
LABEL = {"eps": "ε-prediction", "v": "v-prediction", "x0": "x₀-prediction", "edm": "EDM"}
FIGURES = {
    "objectives-fid-vs-nfe": {
        "alt": "Two log-log panels of digits-FID versus NFE (5 to 50) for the digits UNet trained with "
               "eps-, v-, x0-prediction and EDM's objective, sampled with DDIM (left) and "
               "DPM-Solver++(2M) (right). A grey line marks the real-versus-real FID. The values are "
               "those of the table on the page.",
        "caption": "The same UNet, steps, batch and seed, four objectives: digits-FID of 899 samples vs "
                   "NFE (logSNR grid; the mean of two starting-noise seeds, bars: their range). Grey: two "
                   "halves of the real digits. From `docs/training/objectives-cpu.json`.",
    },
    "objectives-eps-error": {
        "alt": "Log-scale plot of each trained model's mean squared noise-prediction error against the "
               "half log-SNR lambda on a fixed validation batch, for the four objectives. All four "
               "errors are largest at high lambda (little noise) and smallest at low lambda.",
        "caption": "Where each objective spent its capacity: the EMA model's error ‖ε̂ − ε‖² per pixel on "
                   "one fixed batch of 512 digits at 25 noise levels, in the common units of ε (any head "
                   "converted by `model_wrapper` / `edm_noise_fn`).",
    },
}


def render(quick: bool, device: str) -> dict:
    apply_style()
    rec = json.loads(RESULTS.read_text())
    nfes = rec["nfes"]
    fig1, axes = plt.subplots(1, 2, figsize=(7.6, 3.9), sharey=True)
    for ax, sampler in zip(axes, ("DDIM", "DPM-Solver++(2M)")):
        for k, name in enumerate(rec["objectives"]):
            fids = np.array([rec["runs"][name]["fid"][sampler][str(n)] for n in nfes])  # (NFE, seeds)
            mean = fids.mean(1)
            err = np.stack([mean - fids.min(1), fids.max(1) - mean])
            ax.errorbar(nfes, mean, yerr=err, fmt="o-", ms=4, capsize=3, color=PALETTE[k], label=LABEL[name])
        ax.axhline(rec["real_vs_real"], color="grey", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(nfes)
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(sampler)
        ax.set_xlabel("NFE")
    axes[0].set_ylabel("digits-FID")
    axes[0].legend(fontsize=9)

    fig2, ax2 = plt.subplots(figsize=(6.8, 4.0))
    for k, name in enumerate(rec["objectives"]):
        levels = rec["runs"][name]["eps_error"]
        lam = [v["lambda"] for v in levels]
        ax2.semilogy(lam, [v["mse"] for v in levels], "o-", ms=3, color=PALETTE[k], label=LABEL[name])
    ax2.set_xlabel("λ = log(α/σ)   (noisier ←  → cleaner)")
    ax2.set_ylabel("validation ‖ε̂ − ε‖² per pixel")
    ax2.legend(fontsize=9)
    return {"objectives-fid-vs-nfe": fig1, "objectives-eps-error": fig2}
