"""Figures for the chapter "Flow matching and rectified flow"."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from figures._style import PALETTE, apply_style

DEPENDS = ["src/difflearn/data/mixture.py", "src/difflearn/schedules/vp.py"]
SEED = 0
FIGURES = {
    "flow-matching-paths": {
        "alt": "Two square panels in the plane. Left: curved trajectories of the rectified-flow ODE from "
               "Gaussian noise samples to a two-mode Gaussian mixture, coloured by the mode they reach. "
               "Right: straight segments joining each noise sample to the same endpoint, the coupling "
               "that reflow trains on.",
        "caption": "Left: paths of the 1-rectified flow (the probability-flow ODE with $\\alpha = 1 - t$, $\\sigma = t$) "
                   "from noise (black dots) to the 2-D mixture 'two' (grey dots). Right: straight lines "
                   "between the same pairs, which reflow learns to follow; one Euler step along them would "
                   "be exact if they never crossed.",
    },
}


def render(quick: bool, device: str) -> dict:
    from scipy.integrate import solve_ivp

    from difflearn import NoiseScheduleVP, mixture_2d

    apply_style()
    ns = NoiseScheduleVP("linear")
    gm = mixture_2d("two")
    n = 40 if quick else 120
    z = torch.randn(n, 2, generator=torch.Generator().manual_seed(SEED), dtype=torch.float64)

    def velocity(t, y):
        # v(x, t) = (eps_VP(x alpha_tau / (1 - t), tau) - x) / (1 - t) with lambda_tau = log((1 - t) / t)
        x = torch.from_numpy(y.reshape(-1, 2))
        tau = ns.inverse_lambda(torch.tensor([np.log((1 - t) / t)], dtype=torch.float64))
        eps = gm.eps(x * ns.marginal_alpha(tau) / (1 - t), tau, ns)
        return ((eps - x) / (1 - t)).reshape(-1).numpy()

    t_start, t_end = 0.99, 1e-3
    ts = np.linspace(t_start, t_end, 60)
    sol = solve_ivp(velocity, (t_start, t_end), z.numpy().reshape(-1), t_eval=ts, rtol=1e-6, atol=1e-6)
    paths = sol.y.reshape(n, 2, -1)                                  # (n, 2, T)
    end = paths[:, :, -1]
    mode = torch.argmax(gm.class_posterior(torch.from_numpy(end), None, None), 1).numpy()
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.4), sharex=True, sharey=True)
    for j in range(n):
        c = PALETTE[int(mode[j])]
        axes[0].plot(paths[j, 0], paths[j, 1], color=c, lw=0.7, alpha=0.8)
        axes[1].plot([paths[j, 0, 0], end[j, 0]], [paths[j, 1, 0], end[j, 1]], color=c, lw=0.7, alpha=0.8)
    for ax, title in zip(axes, ("1-rectified flow: ODE paths", "reflow: straight lines, same pairs")):
        ax.scatter(paths[:, 0, 0], paths[:, 1, 0], s=6, color="k", zorder=3)
        ax.scatter(end[:, 0], end[:, 1], s=6, color="0.4", zorder=3)
        ax.set_title(title)
        ax.set_aspect("equal")
    axes[0].set_xlim(-3.2, 3.2)
    axes[0].set_ylim(-3.2, 3.2)
    return {"flow-matching-paths": fig}
