"""Figures for the chapter "Forward process and noise schedules"."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from figures._style import PALETTE, apply_style

DEPENDS = ["src/difflearn/schedules/vp.py", "src/difflearn/schedules/betas.py", "src/difflearn/schedules/grids.py"]
SEED = 0
FIGURES = {
    "schedules-alpha-sigma-lambda": {
        "alt": "Three panels against time t from 0 to 1: alpha_t falls from 1 to near 0, sigma_t rises from 0 "
               "to near 1, and lambda_t falls from about +5 to about -5, for the discrete linear, discrete "
               "cosine, continuous linear VP and scaled-linear schedules.",
        "caption": "$\\alpha_t$, $\\sigma_t$ and the half log-SNR $\\lambda_t = \\log(\\alpha_t/\\sigma_t)$ of common VP schedules. The cosine "
                   "schedule destroys information more evenly in t; the linear one spends most of [0, 1] "
                   "at low SNR. The DDPM table ($\\beta$ from $10^{-4}$ to $0.02$ over 1000 steps) and the continuous linear VP SDE "
                   "($\\beta(t)$ from 0.1 to 20) are the same schedule, one sampled and one continuous (dashed).",
    },
    "schedules-noising": {
        "alt": "A grid of a handwritten digit noised at eleven times from t = 0 to t = 1, one row for the linear "
               "and one for the cosine schedule; the digit fades earlier under the linear schedule.",
        "caption": "One digit noised with the same $\\varepsilon$ along $t$: $x_t = \\alpha_t x_0 + \\sigma_t \\varepsilon$."
                   " Under the linear schedule "
                   "the digit is gone by $t \\approx 0.5$; the cosine schedule keeps it visible longer.",
    },
    "schedules-time-grids": {
        "alt": "Four rows of dots on the lambda axis, showing where ten sampling steps fall for the time-uniform, "
               "logSNR, time-quadratic and Karras spacings.",
        "caption": "Where ten sampler steps land, in $\\lambda$, for the four continuous spacings on the DDPM linear "
                   "schedule. logSNR spacing is uniform in $\\lambda$ by construction.",
    },
}


def _schedules():
    from difflearn import NoiseScheduleVP, beta_schedule

    return {
        "discrete linear (DDPM)": NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000), dtype=torch.float64),
        "discrete cosine (iDDPM)": NoiseScheduleVP("discrete", betas=beta_schedule("cosine", 1000), dtype=torch.float64),
        "continuous linear VP": NoiseScheduleVP("linear"),
        "scaled linear (SD)": NoiseScheduleVP("discrete", betas=beta_schedule("scaled_linear", 1000), dtype=torch.float64),
    }


def render(quick: bool, device: str) -> dict:
    from sklearn.datasets import load_digits

    from difflearn import time_steps

    apply_style()
    figs = {}
    n = 200 if quick else 2000
    t = torch.linspace(1e-3, 1.0, n, dtype=torch.float64)
    fig, (axes, keys) = plt.subplots(2, 3, figsize=(11, 4.4), height_ratios=[3, 1.1])
    for key in keys:  # the legend goes under the first panel, clear of the curves
        key.axis("off")
    for (name, ns), c, ls in zip(_schedules().items(), PALETTE, ["-", "-", "--", "-"]):
        lo, hi = ns.time_domain()
        tt = t[(t >= lo) & (t <= hi)]
        axes[0].plot(tt, ns.marginal_alpha(tt), color=c, ls=ls, label=name)
        axes[1].plot(tt, ns.marginal_std(tt), color=c, ls=ls)
        axes[2].plot(tt, ns.marginal_lambda(tt), color=c, ls=ls)
    for ax, title in zip(axes, [r"$\alpha_t$", r"$\sigma_t$", r"$\lambda_t = \log(\alpha_t/\sigma_t)$"]):
        ax.set_title(title)
        ax.set_xlabel("t")
    keys[0].legend(*axes[0].get_legend_handles_labels(), fontsize=9, loc="upper center")
    figs["schedules-alpha-sigma-lambda"] = fig

    digit = torch.tensor(load_digits().images[0], dtype=torch.float64) / 16 * 2 - 1  # (8, 8) in [-1, 1]
    x0 = torch.nn.functional.interpolate(digit[None, None], size=32, mode="bilinear")[0, 0]  # (32, 32)
    eps = torch.randn_like(x0)
    times = np.linspace(0, 1, 11)
    scheds = _schedules()
    rows = [("linear", scheds["discrete linear (DDPM)"]), ("cosine", scheds["discrete cosine (iDDPM)"])]
    fig, axes = plt.subplots(2, 11, figsize=(11, 2.4))
    for r, (label, ns) in enumerate(rows):
        for c, tc in enumerate(times):
            tq = torch.tensor([min(max(tc, *ns.time_domain()[:1], 1e-3), ns.T)], dtype=torch.float64)
            xt = ns.marginal_alpha(tq) * x0 + ns.marginal_std(tq) * eps
            ax = axes[r, c]
            ax.imshow(xt.numpy(), cmap="gray", vmin=-2, vmax=2)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            if r == 0:
                ax.set_title(f"t={tc:.1f}", fontsize=9)
            if c == 0:
                ax.set_ylabel(label)
    figs["schedules-noising"] = fig

    ns = scheds["discrete linear (DDPM)"]
    fig, ax = plt.subplots(figsize=(8, 2.6))
    for i, (skip, c) in enumerate(zip(["time_uniform", "logSNR", "time_quadratic", "karras"], PALETTE)):
        lam = ns.marginal_lambda(time_steps(ns, skip, 1.0, 1e-3, 10, dtype=torch.float64))
        ax.scatter(lam, np.full(len(lam), i), color=c, s=25)
    ax.set_yticks(range(4), ["time_uniform", "logSNR", "time_quadratic", "karras"])
    ax.set_xlabel(r"$\lambda_t$ (noisy $\leftarrow$ $\rightarrow$ clean)")
    ax.grid(axis="y", alpha=0)
    figs["schedules-time-grids"] = fig
    return figs
