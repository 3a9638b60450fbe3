"""Figures for the "Samplers" chapter: error vs NFE and 2-D trajectories."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from figures._paths import paths_panel
from figures._style import PALETTE, apply_style

DEPENDS = ["figures/_paths.py", "src/difflearn/samplers/registry.py", "src/difflearn/samplers/core.py",
           "src/difflearn/samplers/ddim.py", "src/difflearn/samplers/edm.py",
           "src/difflearn/samplers/unipc.py",
           "src/difflearn/samplers/sde.py", "src/difflearn/samplers/dpmpp_sde.py", "src/difflearn/data/mixture.py",
           "src/difflearn/schedules/vp.py", "src/difflearn/schedules/grids.py"]
SEED = 0
FIGURES = {
    "samplers-error-vs-nfe": {
        "alt": "Log-log plot of the error against the exact ODE solution versus the number of model "
               "evaluations (5 to 50) for DDIM, Heun, UniPC of orders 1 to 3 and, where available, "
               "DPM-Solver++(2M). Every line falls; DDIM falls with slope about 1, the higher-order "
               "methods fall faster, and UniPC-3 reaches the lowest error at 50 evaluations.",
        "caption": "Error vs NFE on the exact 2-D Gaussian mixture (linear-β schedule, logSNR grid, mean "
                   "distance to a scipy solve of the probability-flow ODE). Dashed: slopes 1, 2 and 3.",
    },
    "samplers-trajectories": {
        "alt": "Four square panels, one per sampler (DDIM, Heun, UniPC-2 and Euler-Maruyama), each "
               "showing the paths of the same 40 starting points in the plane, from a wide noise cloud "
               "to the 8 modes of a ring-shaped Gaussian mixture. The ODE samplers draw smooth curves "
               "that end on nearly the same points; Euler-Maruyama's paths are jagged.",
        "caption": "Trajectories from the same noise on the 8-mode ring mixture (10 steps; Euler–Maruyama "
                   "100 steps). The deterministic samplers follow the probability-flow ODE and agree at "
                   "the end; the SDE sampler ends in the same modes by a random route.",
    },
}


def render(quick: bool, device: str) -> dict:
    from difflearn import NoiseScheduleVP, sample
    from difflearn.data import GaussianMixture, mixture_2d

    apply_style()
    torch.manual_seed(SEED)
    ns = NoiseScheduleVP("linear")
    gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2], [0.5, 0.3, 0.2])
    eps = gm.noise_fn(ns)
    n = 64 if quick else 256
    x_T = torch.randn(n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(SEED))
    ref = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns)
    nfes = np.array([5, 8, 10, 15, 20, 30, 50])
    runs = [("DDIM", "ddim", 1, {}), ("Heun", "heun", 2, {}), ("UniPC-1", "unipc", 1, {"order": 1}),
            ("UniPC-2", "unipc", 1, {"order": 2}), ("UniPC-3", "unipc", 1, {"order": 3}),
            ("DPM-Solver++(2M)", "dpmsolver++", 1, {"order": 2})]
    fig1, ax = plt.subplots(figsize=(6.4, 4.2))
    for k, (label, method, per_step, kw) in enumerate(runs):
        errs, xs = [], []
        for n in nfes:
            try:
                out = sample(eps, x_T, ns, method=method, steps=int(n) // per_step, skip_type="logSNR", **kw)
            except ImportError:
                break
            errs.append((out - ref).norm(dim=1).mean().item())
            xs.append(int(n) // per_step * per_step)
        if errs:
            ax.loglog(xs, errs, "o-", color=PALETTE[k % len(PALETTE)], label=label, ms=4)
    for p, c in ((1, 0.8), (2, 3.0), (3, 8.0)):
        ax.loglog(nfes, c * (nfes / 5.0) ** -p, "--", color="grey", lw=0.8)
        ax.annotate(f"slope {p}", (nfes[-1], c * (nfes[-1] / 5.0) ** -p), xytext=(5, 0),
                    textcoords="offset points", va="center", fontsize=8, color="grey")
    ax.set_xlabel("NFE (model evaluations)")
    ax.set_ylabel("mean error vs exact ODE solution")
    ax.legend(fontsize=8)

    ring = mixture_2d("ring8")
    eps2 = ring.noise_fn(ns)
    x0 = torch.randn(40, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(SEED + 1))
    fig2, axes = plt.subplots(1, 4, figsize=(12, 3.4), sharex=True, sharey=True)
    data = ring.sample(2000, torch.Generator().manual_seed(SEED + 2)).numpy()
    panels = [("DDIM", "ddim", 10, {}), ("Heun", "heun", 10, {}), ("UniPC-2", "unipc", 10, {"order": 2}),
              ("Euler–Maruyama", "euler_maruyama", 100, {"generator": torch.Generator().manual_seed(3)})]
    for k, (a, (label, method, steps, kw)) in enumerate(zip(axes, panels)):
        path = [x0]
        sample(eps2, x0, ns, method=method, steps=steps, skip_type="logSNR",
               callback=lambda d, path=path: path.append(d["x_t"].clone()), **kw)
        P = torch.stack(path[1:]).numpy()  # (steps, B, 2) states at every model call
        paths_panel(a, P, data, PALETTE[k], label)
    return {"samplers-error-vs-nfe": fig1, "samplers-trajectories": fig2}
