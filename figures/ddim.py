"""Figures for the chapter "DDIM"."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from figures._style import PALETTE, apply_style

DEPENDS = ["src/difflearn/samplers/ddim.py", "src/difflearn/data/mixture.py", "src/difflearn/schedules/vp.py"]
SEED = 0
FIGURES = {
    "ddim-eta-paths": {
        "alt": "Two panels of sample paths against time, from t = 1 on the left to t = 0 on the right, for a "
               "1-D three-component Gaussian mixture. With eta = 0 the paths are smooth curves that fan out "
               "to the three modes; with eta = 1 they are jagged but end in the same three modes. A density "
               "of the data is drawn at the right edge of each panel.",
        "caption": "DDIM paths on an exact 1-D mixture, 100 steps, the same starting noise. Left: $\\eta = 0$, "
                   "the deterministic probability-flow trajectories. Right: $\\eta = 1$, DDPM's ancestral chain. "
                   "Both end in the data distribution (grey, right edge).",
    },
}


def render(quick: bool, device: str) -> dict:
    from difflearn import GaussianMixture, NoiseScheduleVP, time_steps
    from difflearn.samplers import ddim

    apply_style()
    ns = NoiseScheduleVP("linear")
    gm = GaussianMixture([[-2.0], [0.5], [2.5]], [0.3, 0.5, 0.2], [0.3, 0.5, 0.2])
    n_paths, N = (25, 50) if quick else (60, 100)
    x_T = torch.randn(n_paths, 1, generator=torch.Generator().manual_seed(SEED), dtype=torch.float64)
    grid = time_steps(ns, "time_uniform", 1.0, 1e-3, N, dtype=torch.float64)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    xs = np.linspace(-4, 4, 400)
    dens = np.exp(gm.log_prob(torch.from_numpy(xs)[:, None]).numpy())
    for ax, eta in zip(axes, (0.0, 1.0)):
        states = []
        out = ddim(gm.noise_fn(ns), x_T, ns, grid, eta=eta,
                   generator=torch.Generator().manual_seed(SEED + 1),
                   callback=lambda d, states=states: states.append(d["x_t"][:, 0].clone()))
        paths = torch.stack(states + [out[:, 0]]).numpy()            # (N + 1, n_paths)
        for j in range(n_paths):
            ax.plot(grid.numpy(), paths[:, j], color=PALETTE[int(eta > 0)], lw=0.7, alpha=0.7)
        ax.fill_betweenx(xs, 1 - 0.1 * dens / dens.max(), 1, color="0.75", transform=ax.get_yaxis_transform())
        ax.set_xlim(1.0, -0.12)
        ax.set_xlabel("t  (sampling runs right)")
        ax.set_title(f"η = {eta:g}")
    axes[0].set_ylabel("x_t")
    axes[0].set_ylim(-4, 4)
    return {"ddim-eta-paths": fig}
