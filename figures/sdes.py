"""Figures for the chapter "Math review: SDEs"."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from figures._style import PALETTE, apply_style

DEPENDS = ["src/difflearn/schedules/vp.py"]
SEED = 0
FIGURES = {
    "sdes-forward-marginals": {
        "alt": "Three panels, VE, VP and sub-VP, each showing a few sample paths of x_t against t starting "
               "from x_0 = 1.5, with the exact mean and a band of plus or minus two standard deviations. VE "
               "spreads to a width of about 20 around 1.5; VP and sub-VP "
               "shrink the mean to zero and approach "
               "unit variance, sub-VP more slowly.",
        "caption": "Euler–Maruyama paths of the three SDEs of Song "
                   "et al. (2021) from $x_0 = 1.5$, with the exact "
                   "Gaussian marginals (mean $\\pm$ 2 std, from the moment equations; VP from "
                   "NoiseScheduleVP('linear')). VE keeps the mean and lets the "
                   "variance explode; VP and sub-VP "
                   "forget $x_0$ and end near $\\mathcal N(0, 1)$.",
    },
}


def render(quick: bool, device: str) -> dict:
    from difflearn.schedules import NoiseScheduleVP

    apply_style()
    rng = np.random.default_rng(SEED)
    vp = NoiseScheduleVP("linear")
    n = 250 if quick else 1000
    t = np.linspace(0, 1, n + 1)
    tt = torch.as_tensor(t, dtype=torch.float64)
    alpha, sigma = vp.marginal_alpha(tt).numpy(), vp.marginal_std(tt).numpy()
    beta = vp.beta_0 + t * (vp.beta_1 - vp.beta_0)
    int_beta = vp.beta_0 * t + 0.5 * (vp.beta_1 - vp.beta_0) * t**2
    s_min, s_max = 0.01, 10.0
    sig_ve = s_min * (s_max / s_min) ** t
    x0 = 1.5
    sdes = {
        "VE": (np.zeros_like(t), sig_ve * np.sqrt(2 * np.log(s_max / s_min)), np.full_like(t, x0),
               np.sqrt(sig_ve**2 - s_min**2)),
        "VP": (-0.5 * beta, np.sqrt(beta), alpha * x0, sigma),
        "sub-VP": (-0.5 * beta, np.sqrt(beta * (1 - np.exp(-2 * int_beta))), alpha * x0, 1 - alpha**2),
    }
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    h = 1.0 / n
    for ax, (name, (f, g, mean, sd)) in zip(axes, sdes.items()):
        X = np.full(6, x0)
        paths = [X]
        for k in range(n):
            X = X + f[k] * X * h + g[k] * np.sqrt(h) * rng.standard_normal(6)
            paths.append(X)
        ax.plot(t, np.array(paths), lw=0.7, alpha=0.8)
        ax.fill_between(t, mean - 2 * sd, mean + 2 * sd, color=PALETTE[5], alpha=0.2, label="mean ± 2 std")
        ax.plot(t, mean, color=PALETTE[7], lw=1.5, label="mean")
        ax.set_title(name)
        ax.set_xlabel("t")
    axes[0].set_ylabel(r"$x_t$")
    axes[0].legend(fontsize=8, loc="lower left")
    return {"sdes-forward-marginals": fig}
