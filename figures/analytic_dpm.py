"""Figures for the chapter "Analytic-DPM"."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from figures._style import PALETTE, apply_style

DEPENDS = ["src/difflearn/data/mixture.py", "src/difflearn/schedules/vp.py", "src/difflearn/schedules/betas.py"]
SEED = 0
FIGURES = {
    "analytic-dpm-variance": {
        "alt": "Line plot against the DDPM step n from 1 to 1000, log scale, of reverse variances divided "
               "by beta_n: beta_tilde_n over beta_n rising from about 0.45 to 1, the constant 1 for beta_n, "
               "and the Analytic-DPM optimum for two 1-D mixtures: for broad components it stays near 1; "
               "for narrow components it follows beta_tilde up to about n = 100 and moves to 1 at large n.",
        "caption": "Optimal reverse variances of DDPM steps on the linear schedule, relative to $\\beta_n$. With "
                   "broad components (the mixture of the check, stds 0.2–0.5) the noise of the early steps "
                   "is far below the data's own spread and the optimum is $\\approx \\beta_n$. With narrow components "
                   "(same means, std 0.005) it follows $\\tilde\\beta_n$ until the noise level approaches the distance "
                   "between the modes. Neither fixed choice is right everywhere.",
    },
}


def render(quick: bool, device: str) -> dict:
    from difflearn import GaussianMixture, NoiseScheduleVP, alphas_cumprod_from_betas, beta_schedule

    apply_style()
    betas = beta_schedule("linear", 1000)
    abar = alphas_cumprod_from_betas(betas).numpy()
    ns = NoiseScheduleVP("discrete", betas=betas, dtype=torch.float64)
    mixtures = {"broad components": GaussianMixture([[-2.0], [0.5], [2.5]], [0.3, 0.5, 0.2], [0.3, 0.5, 0.2]),
                "narrow components": GaussianMixture([[-2.0], [0.5], [2.5]], 0.005, [0.3, 0.5, 0.2])}
    x = np.linspace(-6, 6, 24_001 if quick else 240_001)             # fine enough for std 0.005
    X = torch.from_numpy(x)[:, None]
    steps = np.unique(np.geomspace(1, 999, 25 if quick else 120).astype(int))
    beta = 1 - abar[steps] / abar[steps - 1]
    lam2 = (1 - abar[steps - 1]) / (1 - abar[steps]) * beta
    fig, ax = plt.subplots(figsize=(7, 3.4))
    ax.plot(steps, np.ones_like(beta), color=PALETTE[1], label="β_n (fixed large)")
    ax.plot(steps, lam2 / beta, color=PALETTE[0], label="β̃_n (fixed small)")
    for (name, gm), ls in zip(mixtures.items(), ("-", "--")):
        Gamma = []
        for n in steps:
            t = torch.tensor((n + 1) / 1000, dtype=torch.float64)
            score = gm.score(X, t, ns)[:, 0].numpy()
            dens = np.exp(gm.marginal(ns, float(t)).log_prob(X).numpy())
            Gamma.append((dens * score**2).sum() * (x[1] - x[0]))
        opt = lam2 + (np.sqrt((1 - abar[steps]) / (1 - beta)) - np.sqrt(1 - abar[steps - 1] - lam2)) ** 2 * (
            1 - (1 - abar[steps]) * np.array(Gamma))
        ax.plot(steps, opt / beta, color="k", lw=2, ls=ls, label=f"σ*², {name}")
    ax.set_xscale("log")
    ax.set_xlabel("DDPM step n")
    ax.set_ylabel("variance / β_n")
    ax.legend()
    return {"analytic-dpm-variance": fig}
