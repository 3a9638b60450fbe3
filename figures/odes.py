"""Figures for the chapter "Math review: ODEs"."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from figures._style import PALETTE, apply_style

DEPENDS = ["src/difflearn/schedules/vp.py"]
SEED = 0
FIGURES = {
    "odes-exponential-integrator": {
        "alt": "Two panels. Left: log-log plot of final error against number of steps for Euler and for the "
               "exponential (DDIM) step on the probability-flow ODE of narrow Gaussian data; both lines have "
               "slope -1 and the exponential line lies lower. Right: trajectories x_t against lambda for the "
               "exact solution and for 5-step Euler and exponential "
               "solutions; the exponential one tracks the "
               "exact curve more closely.",
        "caption": "The probability-flow ODE of Gaussian data $\\mathcal N(0.7, "
                   "0.02^2)$ (linear VP schedule), solved from "
                   "$t = 1$ to $t = 10^{-3}$ on a grid uniform in $\\lambda$. Both methods are first order, but the "
                   "exponential step (DDIM / DPM-Solver-1) integrates the linear part exactly and only has "
                   "to follow the change of the noise prediction.",
    },
}


def render(quick: bool, device: str) -> dict:
    from difflearn.schedules import NoiseScheduleVP

    apply_style()
    ns = NoiseScheduleVP("linear")
    f64 = lambda t: torch.as_tensor(t, dtype=torch.float64)
    alpha = lambda t: ns.marginal_alpha(f64(t)).numpy()
    sigma = lambda t: ns.marginal_std(f64(t)).numpy()
    lam = lambda t: ns.marginal_lambda(f64(t)).numpy()
    beta = lambda t: ns.beta_0 + t * (ns.beta_1 - ns.beta_0)
    s, c, x_T, t_T, t_0 = 0.02, 0.7, 1.0, 1.0, 1e-3
    v = lambda t: alpha(t) ** 2 * s**2 + sigma(t) ** 2
    eps = lambda x, t: sigma(t) * (x - alpha(t) * c) / v(t)
    exact = lambda t: alpha(t) * c + (x_T - alpha(t_T) * c) * np.sqrt(v(t) / v(t_T))

    def grid(n):
        lams = np.linspace(float(lam(t_T)), float(lam(t_0)), n + 1)
        return ns.inverse_lambda(f64(lams)).numpy()

    def solve(n, kind):
        ts, xs = grid(n), [x_T]
        for a, b in zip(ts[:-1], ts[1:]):
            x = xs[-1]
            if kind == "euler":
                xs.append(x + (b - a) * (-0.5 * beta(a) * x + beta(a) / (2 * sigma(a)) * eps(x, a)))
            else:
                xs.append(alpha(b) / alpha(a) * x - sigma(b) * np.expm1(lam(b) - lam(a)) * eps(x, a))
        return ts, np.array(xs, dtype=float)

    steps = [5, 10, 20, 40] if quick else [5, 7, 10, 14, 20, 28, 40, 57, 80, 113, 160]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for kind, col, label in (("euler", PALETTE[1], "Euler in t"), ("exp", PALETTE[0], "exponential (DDIM)")):
        errs = [abs(solve(n, kind)[1][-1] - exact(t_0)) for n in steps]
        axes[0].loglog(steps, errs, "o-", color=col, label=label)
        ts, xs = solve(5, kind)
        axes[1].plot(lam(ts), xs, "o--", color=col, label=f"{label}, 5 steps")
    tt = grid(400)
    axes[1].plot(lam(tt), exact(tt), color=PALETTE[7], lw=1.5, label="exact")
    axes[0].set_xlabel("steps")
    axes[0].set_ylabel(r"$|x_{t_0} - x^{\mathrm{exact}}_{t_0}|$")
    axes[0].set_title("final error")
    axes[0].legend()
    axes[1].set_xlabel(r"$\lambda_t$")
    axes[1].set_ylabel(r"$x_t$")
    axes[1].set_title("trajectories")
    axes[1].legend(fontsize=8)
    return {"odes-exponential-integrator": fig}
