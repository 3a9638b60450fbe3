"""Figures for the chapter "DDPM"."""

import matplotlib.pyplot as plt
import numpy as np

from figures._style import PALETTE, apply_style

DEPENDS = ["src/difflearn/schedules/betas.py"]
SEED = 0
FIGURES = {
    "ddpm-reverse-variance": {
        "alt": "Left: reverse-step variances against step t on log-log axes for the linear DDPM schedule: "
               "beta_t on top, beta-tilde_t below it, far apart at small t and merging at large t, and the "
               "optimal variance for Gaussian data with s = 0.25, 0.5 and 0.75 between them. Middle: the "
               "log-space interpolation weight v of that optimal variance against t, between 0 and 1, "
               "larger for larger s. Right: "
               "the final sample variance of a 10-step sampler against the data variance s squared, for "
               "fixed-small, fixed-large and optimal variances; only the optimal one lies on the diagonal.",
        "caption": "Left: the true reverse variance of Gaussian data $\\mathcal N(0, s^2)$ lies between $\\tilde\\beta_t$ ($s = 0$) and "
                   "$\\beta_t$ ($s = 1$), the range improved DDPM interpolates in log "
                   "space. Middle: the weight $v$ with "
                   "optimal $= \\exp(v \\log \\beta_t + (1 - v) \\log \\tilde\\beta_t)$. Right: with 10 "
                   "respaced steps and the exact noise predictor, fixed-small "
                   "under-disperses and fixed-large "
                   "over-disperses; the optimal variance reproduces the data variance.",
    },
}


def render(quick: bool, device: str) -> dict:
    from difflearn.schedules import alphas_cumprod_from_betas, beta_schedule

    apply_style()
    abar_full = alphas_cumprod_from_betas(beta_schedule("linear", 1000)).numpy()

    def schedule(steps):
        ab = abar_full[np.linspace(0, 999, steps).round().astype(int)]
        ab_prev = np.concatenate([[1.0], ab[:-1]])
        return ab, ab_prev, 1 - ab / ab_prev

    fig, (axes, keys) = plt.subplots(2, 3, figsize=(13, 5.0), height_ratios=[3, 1.2])
    for key in keys:  # a row of legends under the panels, clear of every curve
        key.axis("off")
    ab, ab_prev, beta = schedule(1000)
    t = np.arange(1, 1001)
    axes[0].semilogy(t[1:], beta[1:], color=PALETTE[1], lw=2, label=r"$\beta_t$ (fixed-large)")
    axes[0].semilogy(t[1:], ((1 - ab_prev) / (1 - ab) * beta)[1:], color=PALETTE[0], lw=2,
                     label=r"$\tilde\beta_t$ (fixed-small)")
    for s, ls in ((0.25, ":"), (0.5, "--"), (0.75, "-.")):
        v, v_prev = ab * s**2 + 1 - ab, ab_prev * s**2 + 1 - ab_prev
        opt, bt = (v_prev * beta / v)[1:], ((1 - ab_prev) / (1 - ab) * beta)[1:]
        axes[0].semilogy(t[1:], opt, color=PALETTE[2], ls=ls, label=f"optimal, s = {s}")
        frac = (np.log(opt) - np.log(bt)) / (np.log(beta[1:]) - np.log(bt))
        axes[1].plot(t[1:], frac, color=PALETTE[2], ls=ls, label=f"s = {s}")
    axes[0].set_xscale("log")
    axes[0].set_xlabel("step t")
    axes[0].set_title("reverse-step variance")
    keys[0].legend(*axes[0].get_legend_handles_labels(), fontsize=8, loc="upper center")
    axes[1].set_xscale("log")
    axes[1].set_ylim(0, 1.05)
    axes[1].set_xlabel("step t")
    axes[1].set_title(r"learned-variance weight $v$ of the optimum")
    keys[1].legend(*axes[1].get_legend_handles_labels(), fontsize=8, loc="upper center")

    def final_variance(s, kind, steps):
        ab, ab_prev, beta = schedule(steps)
        V = 1.0
        for i in reversed(range(steps)):
            v_t = ab[i] * s**2 + 1 - ab[i]
            c = (1 - beta[i] / np.sqrt(1 - ab[i]) * np.sqrt(1 - ab[i]) / v_t) / np.sqrt(1 - beta[i])
            var = {"small": (1 - ab_prev[i]) / (1 - ab[i]) * beta[i], "large": beta[i],
                   "optimal": (ab_prev[i] * s**2 + 1 - ab_prev[i]) * beta[i] / v_t}[kind]
            V = c**2 * V + (var if i > 0 else 0.0)
        return V

    s2 = np.linspace(0.01, 1.5, 12 if quick else 40)
    for kind, col in (("small", PALETTE[0]), ("large", PALETTE[1]), ("optimal", PALETTE[2])):
        axes[2].plot(s2, [final_variance(np.sqrt(x), kind, 10) for x in s2], color=col, lw=2, label=kind)
    axes[2].plot(s2, s2, color=PALETTE[7], lw=0.8, ls="--", label="data variance")
    axes[2].set_xlabel(r"data variance $s^2$")
    axes[2].set_ylabel("sample variance")
    axes[2].set_title("10-step ancestral sampling")
    keys[2].legend(*axes[2].get_legend_handles_labels(), fontsize=8, loc="upper center")
    return {"ddpm-reverse-variance": fig}
