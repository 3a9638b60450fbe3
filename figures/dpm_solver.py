"""Figures for the DPM-Solver pages: measured convergence orders, the 3M weight, guidance."""

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import NullFormatter, ScalarFormatter

from figures._style import PALETTE, apply_style

DEPENDS = ["src/difflearn/samplers/dpm_solver/api.py", "src/difflearn/samplers/dpm_solver/plans.py",
           "src/difflearn/samplers/dpm_solver/updates.py", "src/difflearn/model_wrapper.py", "src/difflearn/data/mixture.py",
           "src/difflearn/schedules/vp.py", "src/difflearn/schedules/grids.py"]
SEED = 0
FIGURES = {
    "dpm-solver-orders": {
        "alt": "Two log-log panels of the maximum error against the exact probability-flow ODE solution "
               "versus the number of model evaluations, for DPM-Solver++ of orders 1, 2 and 3. Left: "
               "singlestep, whose three lines fall with slopes close to 1, 2 and 3. Right: multistep, "
               "where order 1 falls with slope 1 and orders 2 and 3 both fall with slope close to 2.",
        "caption": "Measured convergence of DPM-Solver++ on the exact 3-component mixture (linear-β "
                   "schedule, logSNR grid, $t = 1 \\to 10^{-3}$, no lower-order final steps, maximum error "
                   "over 32 starting points against a DOP853 solve at $10^{-12}$). The legend gives the "
                   "slope fitted over the right half of each line; dashed guides have slopes 1, 2, 3. "
                   "Multistep order 3 uses the official weights, hence slope 2 (next figure).",
    },
    "dpm-solver-3m-weight": {
        "alt": "Log-log plot of the error versus the number of model evaluations for multistep "
               "DPM-Solver++ and DPM-Solver of order 2, of order 3 with the official weight 1/2 of the "
               "second divided difference, and of order 3 with the weight 1. The official order-3 "
               "lines run parallel to the order-2 lines, slightly below them; the weight-1 lines fall "
               "more steeply, with slope about 3, and end far below.",
        "caption": "The 3M weight finding, measured: with the official (and diffusers') weight 1/2 on "
                   "the second divided difference, multistep order 3 converges at second order; "
                   "`multistep_d2_weight = 1.0` restores third order. Same setting as the figure on "
                   "orders; solid: DPM-Solver++, dashed: DPM-Solver.",
    },
    "dpmpp-guidance": {
        "alt": "Three square scatter plots of 256 samples drawn with DPM-Solver++(2M) in 15 steps from a "
               "three-component 2-D mixture, asking for the top component, at classifier-free guidance "
               "scales 1, 2 and 4. Grey dots show all three components. At scale 1 the samples fill the "
               "top component; at larger scales they move up and away from the two lower components "
               "and the cloud shrinks.",
        "caption": "Classifier-free guidance with the exact conditional mixture (component 3 requested), "
                   "DPM-Solver++(2M), 15 steps, the same starting noise in every panel. The title gives "
                   "the mean of the exact class posterior $p(y \\mid x_0)$ and the spread of the samples.",
    },
}


def _fit_slope(nfe, err):
    """Least-squares slope of -log(err) against log(nfe) over the right half of the line."""
    k = len(nfe) // 2
    return -np.polyfit(np.log(nfe[k:]), np.log(err[k:]), 1)[0]


def render(quick: bool, device: str) -> dict:
    from difflearn import DPM_Solver, GaussianMixture, NoiseScheduleVP, model_wrapper

    apply_style()
    ns = NoiseScheduleVP("linear", dtype=torch.float64)
    gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.8, 0.9, 0.7], [0.5, 0.3, 0.2])
    x_T = torch.randn(8 if quick else 32, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(SEED))
    ref = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns, rtol=1e-12, atol=1e-12)
    model_fn = model_wrapper(gm.noise_fn(ns), ns)
    nfes = [12, 24, 48, 96] if quick else [12, 18, 24, 36, 48, 72, 96, 144, 192]

    def curve(algorithm_type, method, order, d2_weight=0.5):
        solver = DPM_Solver(model_fn, ns, algorithm_type=algorithm_type)
        solver.multistep_d2_weight = d2_weight
        xs, errs = [], []
        for n in nfes:
            out = solver.sample(x_T, steps=n, t_end=1e-3, order=order, method=method, skip_type="logSNR",
                                lower_order_final=False)
            xs.append(solver.nfe)
            errs.append(float((out - ref).abs().max()))
        return np.array(xs), np.array(errs)

    def nfe_axis(ax):
        ax.set_xticks(nfes[::2] if len(nfes) > 6 else nfes)  # every other label: they would touch
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("NFE (model evaluations)")

    def guides(ax, xs, top):
        for p in (1, 2, 3):
            ax.loglog(xs, top * (xs / xs[0]) ** -p, "--", color="grey", lw=0.7)
            ax.annotate(f"slope {p}", (xs[-1], top * (xs[-1] / xs[0]) ** -p), xytext=(6, 0),
                        textcoords="offset points", va="center", fontsize=8, color="grey")

    fig1, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, method, title in zip(axes, ("singlestep_fixed", "multistep"), ("singlestep", "multistep")):
        for order in (1, 2, 3):
            xs, errs = curve("dpmsolver++", method, order)
            ax.loglog(xs, errs, "o-", ms=4, color=PALETTE[order - 1],
                      label=f"order {order}: slope {_fit_slope(xs, errs):.2f}")
        guides(ax, np.array(nfes, dtype=float), 0.3)
        ax.set_title(f"DPM-Solver++, {title}" + (" (order 3: official weight)" if title == "multistep" else ""))
        nfe_axis(ax)
        ax.legend(fontsize=8, loc="lower left")
    axes[0].set_ylabel("max error vs exact ODE solution")

    fig2, ax = plt.subplots(figsize=(6.4, 4.2))
    runs = [("2M", 2, 0.5, PALETTE[0]), ("3M, official weight 1/2", 3, 0.5, PALETTE[1]),
            ("3M, weight 1", 3, 1.0, PALETTE[2])]
    for algorithm_type, style in (("dpmsolver++", "o-"), ("dpmsolver", "s--")):
        name = "DPM-Solver++" if algorithm_type == "dpmsolver++" else "DPM-Solver"
        for label, order, w, color in runs:
            xs, errs = curve(algorithm_type, "multistep", order, w)
            ax.loglog(xs, errs, style, ms=3.5, color=color, lw=1.2,
                      label=f"{name} {label}: slope {_fit_slope(xs, errs):.2f}")
    guides(ax, np.array(nfes, dtype=float), 0.05)
    nfe_axis(ax)
    ax.set_ylabel("max error vs exact ODE solution")
    ax.legend(fontsize=7, loc="lower left")

    # guidance on the exact class-conditional mixture
    cond = GaussianMixture([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]], 0.5)
    n = 128 if quick else 256
    x = torch.randn(n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(SEED + 1))
    y = torch.full((n,), 2)
    data = cond.sample(1500, torch.Generator().manual_seed(SEED + 2)).numpy()
    fig3, axes3 = plt.subplots(1, 3, figsize=(11, 3.8), sharex=True, sharey=True)
    for k, (ax, scale) in enumerate(zip(axes3, (1.0, 2.0, 4.0))):
        guided = model_wrapper(cond.noise_fn(ns), ns, guidance_type="classifier-free", condition=y,
                               unconditional_condition=torch.full((n,), -1), guidance_scale=scale)
        x0 = DPM_Solver(guided, ns, algorithm_type="dpmsolver++").sample(x, steps=15, t_end=1e-3, order=2)
        p_y = cond.class_posterior(x0, torch.tensor([1e-3]), ns)[:, 2].mean().item()
        spread = x0.std(0).mean().item()
        ax.scatter(data[:, 0], data[:, 1], s=2, color="lightgrey")
        ax.scatter(x0[:, 0], x0[:, 1], s=5, color=PALETTE[k])
        ax.set_title(f"scale {scale:g}\np(y|x₀) = {p_y:.4f}, spread {spread:.2f}", fontsize=9)
        ax.set_xlim(-4, 4)
        ax.set_xticks([-2, 0, 2])  # no tick at the panel edges, where neighbours' labels meet
        ax.set_ylim(-2.5, 5)
        ax.set_aspect("equal")
    return {"dpm-solver-orders": fig1, "dpm-solver-3m-weight": fig2, "dpmpp-guidance": fig3}
