"""Figures for the UniPC, EDM and SDE pages: orders per method, churn, deterministic vs stochastic."""

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import NullFormatter, ScalarFormatter

from figures._style import PALETTE, apply_style

DEPENDS = ["src/difflearn/samplers/registry.py", "src/difflearn/samplers/core.py",
           "src/difflearn/samplers/ddim.py", "src/difflearn/samplers/unipc.py", "src/difflearn/samplers/edm.py",
           "src/difflearn/samplers/sde.py", "src/difflearn/samplers/dpmpp_sde.py", "src/difflearn/data/mixture.py",
           "src/difflearn/schedules/vp.py", "src/difflearn/schedules/grids.py"]
SEED = 0
FIGURES = {
    "unipc-corrector-order": {
        "alt": "Log-log plot of the error against the exact ODE solution versus the number of model "
               "evaluations (10 to 320) for the UniPC predictor alone (dashed, orders 1, 2, 3) and with "
               "the corrector (solid). Each solid line is steeper than the dashed line of the same "
               "order, with slopes close to 2, 3 and 4 against 1, 2 and 3, at the same number of "
               "evaluations.",
        "caption": "UniC raises the order by one at no extra model call: UniP-p (dashed) against UniPC-p "
                   "(solid), bh2, data prediction, logSNR grid, on the exact 3-component mixture (mean "
                   "distance to a scipy solve of the probability-flow ODE). Legend: slope fitted over "
                   "the right half of each line.",
    },
    "edm-euler-heun-churn": {
        "alt": "Three panels. Left: log-log plot of error versus model evaluations for Euler and Heun "
               "on the Karras grid; Heun falls with slope about 2, Euler with slope about 1, and they "
               "cross near 20 evaluations. Middle and right: paths of 40 points from noise to an "
               "8-mode ring, with Euler and no churn (smooth curves) and with churn (jagged paths that "
               "still end on the modes).",
        "caption": "Left: Euler and Heun in the EDM formulation (Karras grid, $\\rho = 7$), error against the "
                   "exact ODE solution per model evaluation. Middle and right: 25 Euler steps from the "
                   "same noise without and with churn ($S_\\text{churn} = 40$ for $0.05 \\le \\tilde\\sigma \\le 1$), drawn in VP scale; "
                   "churn re-injects noise late in sampling, so the paths wander but end on the modes.",
    },
    "sde-samplers-moments": {
        "alt": "Two panels. Left: log-log plot of the error of the first two moments of 50 000 samples "
               "versus model evaluations, for Euler-Maruyama (VP and VE), predictor-corrector, "
               "SDE-DPM-Solver++(2M) and DDIM. SDE-DPM-Solver++ reaches the Monte Carlo floor by about "
               "50 evaluations, DDIM by about 200; Euler-Maruyama and PC need hundreds. Right: the "
               "paths of one starting point under DDIM (one smooth curve) and under "
               "SDE-DPM-Solver++(2M) with eight noise seeds, which end in different modes of the ring.",
        "caption": "Left: distance of the sample mean and standard deviation from the exact moments of the "
                   "mixture (50 000 samples, all with the final denoising step; grey band: Monte Carlo "
                   "noise, two standard errors of the sample mean). Right: deterministic and stochastic "
                   "samplers from the same start on the ring mixture, 30 steps.",
    },
}


def _slope(nfe, err):
    k = len(nfe) // 2
    return -np.polyfit(np.log(nfe[k:]), np.log(err[k:]), 1)[0]


def _nfe_axis(ax, ticks):
    ax.set_xticks(ticks)
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("NFE (model evaluations)")


def _paths(ax, eps, x0, ns, method, steps, color, data, **kw):
    from difflearn import sample

    path = []
    out = sample(eps, x0, ns, method=method, steps=steps, skip_type="logSNR",
                 callback=lambda d: path.append(d["x_t"].clone()), **kw)
    P = torch.stack(path + [out]).numpy()                # (steps + 1, B, 2)
    ax.scatter(data[:, 0], data[:, 1], s=1, color="lightgrey")
    for b in range(P.shape[1]):
        ax.plot(P[:, b, 0], P[:, b, 1], color=color, lw=0.6, alpha=0.7)
    ax.scatter(P[-1, :, 0], P[-1, :, 1], s=6, color="black", zorder=3)
    ax.set_xlim(-3.2, 3.2)
    ax.set_ylim(-3.2, 3.2)
    ax.set_aspect("equal")


def render(quick: bool, device: str) -> dict:
    from difflearn import NoiseScheduleVP, sample
    from difflearn.data import GaussianMixture, mixture_2d

    apply_style()
    ns = NoiseScheduleVP("linear")
    gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2], [0.5, 0.3, 0.2])
    eps = gm.noise_fn(ns)
    x_T = torch.randn(16 if quick else 64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(SEED))
    ref = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns)

    def err(method, steps, skip_type="logSNR", **kw):
        out = sample(eps, x_T, ns, method=method, steps=steps, skip_type=skip_type, **kw)
        return (out - ref).norm(dim=1).mean().item()

    # 1. UniP-p against UniPC-p
    nfes = np.array([10, 20, 40, 80] if quick else [10, 20, 40, 80, 160, 320])
    fig1, ax = plt.subplots(figsize=(6.4, 4.4))
    for order in (1, 2, 3):
        for corrector, style in ((False, "s--"), (True, "o-")):
            e = np.array([err("unipc", int(n), order=order, use_corrector=corrector) for n in nfes])
            name = f"UniPC-{order}" if corrector else f"UniP-{order}"
            ax.loglog(nfes, e, style, ms=3.5, color=PALETTE[order - 1], label=f"{name}: slope {_slope(nfes, e):.2f}")
    _nfe_axis(ax, nfes)
    ax.set_ylabel("mean error vs exact ODE solution")
    ax.legend(fontsize=8, ncol=2, loc="lower left")

    # 2. Euler and Heun, and churn
    ring = mixture_2d("ring8")
    eps_ring = ring.noise_fn(ns)
    data = ring.sample(2000, torch.Generator().manual_seed(SEED + 2)).numpy()
    start = torch.randn(40, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(SEED + 1))
    fig2, axes = plt.subplots(1, 3, figsize=(13, 4))
    nfe_e = np.array([10, 20, 40, 80] if quick else [10, 20, 40, 80, 160])
    for k, (label, method, per) in enumerate((("Euler", "euler", 1), ("Heun", "heun", 2))):
        e = np.array([err(method, int(n) // per, skip_type="karras") for n in nfe_e])
        axes[0].loglog(nfe_e, e, "o-", ms=4, color=PALETTE[k], label=f"{label}: slope {_slope(nfe_e, e):.2f}")
    _nfe_axis(axes[0], nfe_e)
    axes[0].set_ylabel("mean error vs exact ODE solution")
    axes[0].legend(fontsize=8)
    axes[0].set_title("Euler vs Heun (Karras grid)")
    for ax, churn, color in ((axes[1], 0.0, PALETTE[0]), (axes[2], 40.0, PALETTE[1])):
        _paths(ax, eps_ring, start, ns, "euler", 25, color, data, s_churn=churn, s_tmin=0.05, s_tmax=1.0,
               generator=torch.Generator().manual_seed(SEED + 3))
        ax.set_title(f"Euler, S_churn = {churn:g}")

    # 3. SDE samplers: moments vs NFE, and one start with several seeds
    n = 4000 if quick else 50000
    x = torch.randn(n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(SEED + 4))
    w, mu, s = gm.weights[:, None], gm.means, gm.stds[:, None]
    mean = (w * mu).sum(0)
    std = ((w * (s**2 + mu**2)).sum(0) - mean**2).sqrt()
    steps_list = [10, 20, 50, 100] if quick else [10, 20, 50, 100, 200, 500]
    runs = [("Euler–Maruyama (VP)", "euler_maruyama", 1, {"sde": "vp"}),
            ("Euler–Maruyama (VE)", "euler_maruyama", 1, {"sde": "ve"}),
            ("PC, Langevin corrector", "pc", 2, {}),
            ("SDE-DPM-Solver++(2M)", "sde_dpmpp_2m", 1, {}),
            ("DDIM (ODE)", "ddim", 1, {})]
    fig3, (ax3, ax4) = plt.subplots(1, 2, figsize=(12, 4.6))
    for k, (label, method, per, kw) in enumerate(runs):
        nfe, e = [], []
        for steps in steps_list:
            if method != "ddim":
                kw = {**kw, "generator": torch.Generator().manual_seed(SEED + 5)}
            out = sample(eps, x, ns, method=method, steps=steps, skip_type="logSNR", denoise_to_zero=True, **kw)
            nfe.append(per * steps + 1)
            e.append(max((out.mean(0) - mean).abs().max().item(), (out.std(0) - std).abs().max().item()))
        ax3.loglog(nfe, e, "o-", ms=4, color=PALETTE[k], label=label)
    floor = 2 * float(std.max()) / np.sqrt(n)  # two standard errors of a sample mean
    ax3.axhspan(1e-4, floor, color="lightgrey", alpha=0.5, lw=0)
    ax3.set_ylim(bottom=floor / 10)
    ax3.set_xlabel("NFE (model evaluations)")
    ax3.set_ylabel("moment error vs exact mixture")
    ax3.legend(fontsize=8, ncol=2, loc="lower center", bbox_to_anchor=(0.5, 1.02))  # above the axes
    one = torch.tensor([[0.3, -1.2]], dtype=torch.float64).repeat(8, 1)
    _paths(ax4, eps_ring, one, ns, "sde_dpmpp_2m", 30, PALETTE[3], data,
           generator=torch.Generator().manual_seed(SEED + 6))
    path = []
    sample(eps_ring, one[:1], ns, method="ddim", steps=30, skip_type="logSNR",
           callback=lambda d: path.append(d["x_t"][0].clone()))
    P = torch.stack(path).numpy()
    ax4.plot(P[:, 0], P[:, 1], color=PALETTE[0], lw=2, label="DDIM")
    ax4.plot([], [], color=PALETTE[3], label="SDE-DPM-Solver++(2M), 8 seeds")
    ax4.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12))  # under the x axis
    ax4.set_title("one start, two samplers")
    return {"unipc-corrector-order": fig1, "edm-euler-heun-churn": fig2, "sde-samplers-moments": fig3}
