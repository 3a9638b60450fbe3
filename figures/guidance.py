"""Figures for the chapter "Guidance"."""

import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from figures._style import PALETTE, apply_style

DEPENDS = ["src/difflearn/data/mixture.py", "src/difflearn/schedules/vp.py"]
SEED = 0
FIGURES = {
    "guidance-tilt": {
        "alt": "Left: densities on the real line for a three-class 1-D Gaussian mixture: the data "
               "density, the class-2 conditional, the tilted density p(x) p(y|x)^4 normalised, the "
               "tempered-classifier density, and the density actually produced by the guided "
               "probability-flow ODE with weight 4, which is narrower and shifted right. Right: the "
               "normaliser Z_gamma(x) = sum over classes of p(k|x)^gamma for gamma 0.5, 2 and 4, "
               "dipping between the class means for gamma above 1.",
        "caption": "Classifier guidance with weight $\\gamma = 4$ on an exact mixture (classes at −2, 0, 2, "
                   "std 0.5; guiding towards the class at 2). The guided sampler (solid black) is much "
                   "sharper than the tilted density $p(x)\\, p(y \\mid x)^\\gamma$ it is often said to sample. Right: "
                   "$\\sum_k p(k \\mid x)^\\gamma$ is not 1, so $p(y \\mid x)^\\gamma$ is not a classifier; the tempered classifier "
                   "divides by it.",
    },
}


def render(quick: bool, device: str) -> dict:
    from scipy.integrate import solve_ivp

    from difflearn.data import GaussianMixture
    from difflearn.schedules import NoiseScheduleVP

    apply_style()
    ns = NoiseScheduleVP("linear")
    gm = GaussianMixture([[-2.0], [0.0], [2.0]], 0.5)
    log_p_y = gm.classifier_fn(ns)
    y, K, gamma, t_0 = 2, 3, 4.0, 1e-3
    xs = np.linspace(-5, 5, 2001 if quick else 8001)
    dx = xs[1] - xs[0]
    X = torch.from_numpy(xs)[:, None]
    t0 = torch.tensor(t_0, dtype=torch.float64)
    p = np.exp(gm.marginal(ns, t_0).log_prob(X).numpy())
    post = torch.stack([log_p_y(X, t0, k) for k in range(K)], 1).exp().numpy()   # (G, K)

    def normalise(d):
        return d / (d.sum() * dx)

    def grad_log_p_y(x, t):
        with torch.enable_grad():
            x_in = x.detach().requires_grad_(True)
            return torch.autograd.grad(log_p_y(x_in, t, y).sum(), x_in)[0]

    def rhs(log_sbar, xbar):
        t = ns.inverse_lambda(torch.tensor([-log_sbar], dtype=torch.float64))
        xt = torch.from_numpy(xbar)[:, None] * ns.marginal_alpha(t)
        eps = gm.eps(xt, t, ns) - gamma * ns.marginal_std(t) * grad_log_p_y(xt, t)
        return math.exp(log_sbar) * eps[:, 0].numpy()

    # push quantiles of the (almost Gaussian) tilted law at T through the guided ODE; the output
    # density follows from the monotone map by the change-of-variables formula
    tT = torch.tensor(1.0, dtype=torch.float64)
    dT = normalise(np.exp(gm.marginal(ns, 1.0).log_prob(X).numpy() + gamma * log_p_y(X, tT, y).numpy()))
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dT[1:] + dT[:-1]) * dx)])
    u = np.linspace(1e-4, 1 - 1e-4, 200 if quick else 600)
    x_T = np.interp(u, cdf, xs)
    lam = ns.marginal_lambda(torch.tensor([1.0, t_0], dtype=torch.float64)).tolist()
    a_T, a_0 = ns.marginal_alpha(torch.tensor([1.0, t_0], dtype=torch.float64)).tolist()
    sol = solve_ivp(rhs, (-lam[0], -lam[1]), x_T / a_T, rtol=1e-7, atol=1e-7)
    x_0 = a_0 * sol.y[:, -1]
    dens_out = np.gradient(u, x_0)                       # d u / d x_0 = output density

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [1.6, 1]})
    ax.fill_between(xs, normalise(p), color="0.85", label="p(x)")
    ax.plot(xs, normalise(p * post[:, y]), color=PALETTE[0], label="p(x | y)  (γ = 1)")
    ax.plot(xs, normalise(p * post[:, y] ** gamma), color=PALETTE[1], label="p(x) p(y|x)^4 / N")
    tempered = post[:, y] ** gamma / (post**gamma).sum(1)
    ax.plot(xs, normalise(p * tempered), color=PALETTE[2], ls="--", label="p(x) p_τ(y|x) / N,  τ = 1/4")
    ax.plot(x_0, dens_out, color="k", lw=2, label="guided ODE output, γ = 4")
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    ax.set_xlim(-4, 4.5)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title("what guidance with weight $\\gamma = 4$ samples")
    for i, g in enumerate((0.5, 2.0, 4.0)):
        ax2.plot(xs, (post**g).sum(1), color=PALETTE[i + 3], label=f"γ = {g}")
    ax2.axhline(1.0, color="0.5", lw=0.8)
    ax2.set_xlabel("x")
    ax2.set_title("Z_γ(x) = Σ_k p(k | x)^γ")
    ax2.legend(fontsize=8)
    return {"guidance-tilt": fig}
