"""Figures for the derivation of DPM-Solver: local errors and order conditions, lambda vs t."""

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import NullFormatter, ScalarFormatter

from figures._style import PALETTE, apply_style

DEPENDS = ["src/difflearn/samplers/dpm_solver/plans.py", "src/difflearn/samplers/dpm_solver/updates.py",
           "src/difflearn/data/mixture.py", "src/difflearn/schedules/vp.py", "src/difflearn/schedules/grids.py"]
SEED = 0
FIGURES = {
    "dpm-local-errors": {
        "alt": "Log-log plot of the local error of one step from the exact trajectory versus the step "
               "size h in lambda, for DPM-Solver-1, the multistep 2M, the official 3M, 3M with weight 1, "
               "and DPM-Solver-3 with r2 = 2/3 and with r2 = 1/2. The lines have slopes 2, 3, 3, 4, 4 "
               "and 3: the official 3M and DPM-Solver-3 with r2 = 1/2 lose one order.",
        "caption": "Local truncation errors, measured: one step of the library's update from the exact "
                   "state at λ = 0.5 (and, for the multistep methods, the exact earlier outputs) to λ + h, "
                   "against the exact solution; 3-component mixture, linear VP schedule, noise prediction. "
                   "Dashed guides (below the curves): slopes 2, 3, 4. A local error O(h^(k+1)) is a global order k.",
    },
    "dpm-lambda-vs-t": {
        "alt": "Two log-log panels of the mean error against the exact solution versus the number of "
               "steps, for the exponential multistep integrator of orders 2 and 3 whose model output is "
               "extrapolated by a polynomial in lambda (solid) or in t (dashed). Left, on a grid uniform "
               "in lambda: the lambda polynomial is below the t polynomial, by a factor of about 3 at "
               "order 3 and 40 steps. Right, on a grid uniform in t: at order 3 the t polynomial is below.",
        "caption": "Polynomial in λ (DPM-Solver) or in t (DEIS's tAB) inside the same exponential "
                   "integrator, on the exact mixture (linear VP schedule, t = 1 → 10⁻³, mean error over "
                   "32 starting points against a DOP853 solve). The better variable is the one the grid "
                   "is uniform in.",
    },
}


def render(quick: bool, device: str) -> dict:
    from difflearn import GaussianMixture, NoiseScheduleVP, time_steps
    from difflearn.samplers.dpm_solver.plans import stage_coefficients
    from difflearn.samplers.dpm_solver.updates import (
        dpm_solver_first_update,
        dpm_solver_second_update,
        dpm_solver_third_update,
        first_order_coefficients,
        second_order_coefficients,
        third_order_coefficients,
    )

    apply_style()
    ns = NoiseScheduleVP("linear", dtype=torch.float64)
    gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.8, 0.9, 0.7], [0.5, 0.3, 0.2])
    x_T = torch.randn(8, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(SEED))
    t_of = lambda lam: ns.inverse_lambda(torch.tensor([lam], dtype=torch.float64))  # noqa: E731
    exact = {}

    def x_at(lam):
        if lam not in exact:
            exact[lam] = gm.pf_ode_solve(x_T, 1.0, float(t_of(lam)), ns, 1e-13, 1e-13)
        return exact[lam]

    eps = lambda x, lam: gm.eps(x, t_of(lam), ns)  # noqa: E731
    point = lambda lam: ns.marginals(t_of(lam), lambdas=[lam]).point(0)  # noqa: E731
    l0 = 0.5

    def local(kind, h):
        s, t, x = point(l0), point(l0 + h), x_at(l0)
        m_s = eps(x, l0)
        if kind == "1":
            out = dpm_solver_first_update(x, m_s, first_order_coefficients("dpmsolver", s, t))
        elif kind in ("2M", "3M, official weight ½", "3M, weight 1"):
            m1, m2 = eps(x_at(l0 - h), l0 - h), eps(x_at(l0 - 2 * h), l0 - 2 * h)
            if kind == "2M":
                out = dpm_solver_second_update(x, m_s, m1,
                                               second_order_coefficients("dpmsolver", "dpmsolver", s, t, -1.0))
            else:
                w = 1.0 if kind.endswith("1") else 0.5
                c = third_order_coefficients("dpmsolver", s, t, -1.0, -2.0, d2_weight=w)
                out = dpm_solver_third_update(x, m_s, m1, m2, c)
        else:
            r = (1 / 3, 2 / 3) if "2/3" in kind else (1 / 3, 1 / 2)
            pts, c = stage_coefficients(ns, "dpmsolver", "dpmsolver", s, t, *r)
            u1 = dpm_solver_first_update(x, m_s, c[0])
            u2 = dpm_solver_second_update(x, m_s, eps(u1, pts[1].lambda_), c[1])
            out = dpm_solver_second_update(x, m_s, eps(u2, pts[2].lambda_), c[2])
        return float((out - x_at(l0 + h)).norm(dim=1).max())

    hs = np.array([0.4, 0.2, 0.1, 0.05] if quick else [0.4, 0.28, 0.2, 0.14, 0.1, 0.07, 0.05, 0.035])
    fig1, ax = plt.subplots(figsize=(7.2, 4.6))
    kinds = [("1", 2), ("2M", 3), ("3M, official weight ½", 3), ("3M, weight 1", 4),
             ("DPM-Solver-3, r₂ = 2/3", 4), ("DPM-Solver-3, r₂ = 1/2", 3)]
    for k, (kind, p) in enumerate(kinds):
        errs = np.array([local(kind, h) for h in hs])
        slope = np.polyfit(np.log(hs[len(hs) // 2:]), np.log(errs[len(hs) // 2:]), 1)[0]
        ax.loglog(hs, errs, "o-" if p == 4 else "s-", ms=4, color=PALETTE[k],
                  label=f"{kind}: slope {slope:.2f}")
    for p in (2, 3, 4):  # under every curve, labelled at the right end
        guide = 1e-9 * (hs / hs.min()) ** p
        ax.loglog(hs, guide, "--", color="grey", lw=0.7)
        ax.annotate(f"slope {p}", (hs.max(), guide.max()), xytext=(5, 0), textcoords="offset points",
                    va="center", fontsize=9, color="grey")
    ax.set_xlabel("step h in λ")
    ax.set_ylabel("local error (max over 8 states)")
    ax.legend(fontsize=9, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.16))  # under the axes

    # lambda vs t: the exponential Adams-Bashforth integrator, polynomial in either variable
    x32 = torch.randn(16 if quick else 32, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(SEED))
    ref = gm.pf_ode_solve(x32, 1.0, 1e-3, ns, rtol=1e-12, atol=1e-12)
    nodes, weights = np.polynomial.legendre.leggauss(20)

    def basis(points, j, x):
        out = np.ones_like(x)
        for k, p in enumerate(points):
            if k != j:
                out = out * (x - p) / (points[j] - p)
        return out

    def solve(steps, order, variable, skip):
        ts = time_steps(ns, skip, 1.0, 1e-3, steps, dtype=torch.float64).numpy()
        m = ns.marginals(ts)
        x, outs = x32.clone(), []
        for i in range(steps):
            outs.append(gm.eps(x, torch.tensor([ts[i]]), ns))
            k = min(order, i + 1)
            lo, hi = m.lam[i], m.lam[i + 1]
            lam = 0.5 * (hi - lo) * nodes + 0.5 * (hi + lo)
            w = 0.5 * (hi - lo) * weights * np.exp(-lam)
            at = ns.inverse_lambda(torch.as_tensor(lam)).numpy() if variable == "t" else lam
            pts = ts[i - k + 1:i + 1] if variable == "t" else m.lam[i - k + 1:i + 1]
            x = m.alpha[i + 1] / m.alpha[i] * x
            for j in range(k):
                x = x - m.alpha[i + 1] * np.sum(w * basis(pts, j, at)) * outs[i - k + 1 + j]
        return float((x - ref).norm(dim=1).mean())

    ns_steps = [10, 20, 40] if quick else [8, 10, 14, 20, 28, 40, 56, 80]
    fig2, axes = plt.subplots(1, 2, figsize=(7.4, 3.9), sharey=True)
    for ax2, skip, title in zip(axes, ("logSNR", "time_uniform"), ("grid uniform in λ", "grid uniform in t")):
        for order, color in ((2, PALETTE[0]), (3, PALETTE[1])):
            for variable, style in (("lambda", "o-"), ("t", "s--")):
                errs = [solve(n, order, variable, skip) for n in ns_steps]
                ax2.loglog(ns_steps, errs, style, ms=3.5, color=color,
                           label=f"order {order}, in {'λ' if variable == 'lambda' else 't'}")
        ax2.set_title(title)
        ax2.set_xlabel("steps (= NFE)")
        ax2.set_xticks([10, 20, 40, 80])
        ax2.xaxis.set_major_formatter(ScalarFormatter())
        ax2.xaxis.set_minor_formatter(NullFormatter())
    axes[0].set_ylabel("mean error vs exact")
    axes[0].legend(fontsize=9, loc="lower left")
    return {"dpm-local-errors": fig1, "dpm-lambda-vs-t": fig2}
