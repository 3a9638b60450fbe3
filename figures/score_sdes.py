"""Figures for the chapter "Score SDEs"."""

import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.integrate import solve_ivp

from figures._style import PALETTE, apply_style

DEPENDS = ["src/difflearn/data/mixture.py", "src/difflearn/schedules/vp.py"]
SEED = 0
FIGURES = {
    "score-sdes-trajectories": {
        "alt": "Two panels with the density p_t(x) of a three-component 1-D mixture as a background image "
               "over t from 0 to 1. Left: smooth probability-flow ODE trajectories from t = 1 down to t = 0, "
               "fanning out into the three modes. Right: jagged reverse-time SDE trajectories that also end "
               "in the three modes.",
        "caption": "The same marginals $p_t$ (background), two ways "
                   "back from noise. Left: the probability-flow "
                   "ODE moves each point deterministically. Right: the reverse-time SDE (Euler–Maruyama) "
                   "takes noisy paths. Both use the exact score of the mixture and end in the data "
                   "distribution.",
    },
}


def render(quick: bool, device: str) -> dict:
    from difflearn.data import GaussianMixture
    from difflearn.schedules import NoiseScheduleVP

    apply_style()
    g = torch.Generator().manual_seed(SEED)
    ns = NoiseScheduleVP("linear")
    beta = lambda t: ns.beta_0 + t * (ns.beta_1 - ns.beta_0)
    gm = GaussianMixture([[-2.0], [0.5], [2.0]], [0.3, 0.5, 0.2], [0.3, 0.5, 0.2])
    f64 = lambda v: torch.as_tensor(v, dtype=torch.float64)
    t_0, t_T, k = 1e-3, 1.0, 24
    ts = np.linspace(t_0, t_T, 60 if quick else 200)
    xs = np.linspace(-3.5, 3.5, 120 if quick else 400)
    dens = np.stack([gm.marginal(ns, f64(t)).log_prob(f64(xs)[:, None]).exp().numpy() for t in ts], 1)
    x_T = gm.marginal(ns, f64(t_T)).sample(k, generator=g)[:, 0].numpy()

    def rhs(t, y):
        return -0.5 * beta(t) * (y + gm.score(f64(y)[:, None], f64(t), ns)[:, 0].numpy())

    t_eval = np.linspace(t_T, t_0, 200)
    ode = solve_ivp(rhs, (t_T, t_0), x_T, t_eval=t_eval, rtol=1e-7, atol=1e-7).y
    steps = 250 if quick else 1000
    grid = np.linspace(t_T, t_0, steps + 1)
    x, sde = f64(x_T)[:, None], [x_T]
    for s, t in zip(grid[:-1], grid[1:]):
        dt = t - s
        drift = -0.5 * beta(s) * x - beta(s) * gm.score(x, f64(s), ns)
        x = x + drift * dt + math.sqrt(beta(s) * -dt) * torch.randn(x.shape, generator=g, dtype=torch.float64)
        sde.append(x[:, 0].numpy())
    sde = np.array(sde)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    for ax, (tt, paths), title in ((axes[0], (t_eval, ode.T), "probability-flow ODE"),
                                   (axes[1], (grid, sde), "reverse-time SDE")):
        ax.imshow(dens, origin="lower", aspect="auto", extent=(t_0, t_T, xs[0], xs[-1]), cmap="Greys",
                  vmax=dens.max() * 0.8)
        ax.plot(tt, paths, color=PALETTE[0], lw=0.8, alpha=0.9)
        ax.set_xlim(t_T, t_0)
        ax.set_xlabel("t  (sampling runs from left to right)")
        ax.set_title(title)
        ax.grid(False)
    axes[0].set_ylabel("x")
    return {"score-sdes-trajectories": fig}
