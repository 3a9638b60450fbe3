"""Figures for "LMS and ancestral samplers": LMS convergence by order, ancestral paths."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from figures._paths import paths_panel
from figures._style import PALETTE, apply_style

DEPENDS = ["figures/_paths.py", "src/difflearn/samplers/registry.py", "src/difflearn/samplers/core.py",
           "src/difflearn/samplers/lms.py", "src/difflearn/samplers/ancestral.py",
           "src/difflearn/samplers/ddim.py", "src/difflearn/data/mixture.py", "src/difflearn/schedules/vp.py",
           "src/difflearn/schedules/grids.py"]
SEED = 0
FIGURES = {
    "lms-orders": {
        "alt": "Log-log plot of the error against the exact ODE solution versus the number of steps "
               "(10 to 640) for LMS of orders 1 to 4. All lines fall; order 1 falls with slope 1 "
               "throughout, while the lines of orders 3 and 4 start with a shallower slope and steepen "
               "towards their nominal slopes 3 and 4 only after about 100 steps.",
        "caption": "LMS of orders 1–4 on the exact 2-D mixture (linear-β schedule, logSNR grid, mean "
                   "distance to a scipy solve of the probability-flow ODE). Dashed: slopes 1 to 4 "
                   "through the last point of each order.",
    },
    "ancestral-paths": {
        "alt": "Three square panels for the same 40 starting points on the 8-mode ring mixture, with "
               "the paths of 8 of them drawn: DDIM (smooth curves), Euler a with eta 1 and DPM++ 2S a "
               "with eta 1 (jagged paths that jump across the plane at high noise). The 40 end points of "
               "all three samplers lie on the modes of the ring, but the ancestral samplers put them on "
               "different modes than DDIM.",
        "caption": "The same starting noise, 20 steps on a Karras grid, then the final step to $\\tilde\\sigma = 0$ "
                   "(black: the 40 samples; lines: 8 of the paths, in the VP variable $x$). DDIM follows the "
                   "probability-flow ODE; the ancestral samplers ($\\eta = 1$) re-draw part of the state at "
                   "every step and reach the same distribution by a random route.",
    },
}


def render(quick: bool, device: str) -> dict:
    from difflearn import NoiseScheduleVP, sample
    from difflearn.data import GaussianMixture, mixture_2d

    apply_style()
    ns = NoiseScheduleVP("linear")
    gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2], [0.5, 0.3, 0.2])
    eps = gm.noise_fn(ns)
    x_T = torch.randn(64 if quick else 256, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(SEED))
    ref = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns)
    steps = np.array([10, 20, 40, 80, 160] if quick else [10, 20, 40, 80, 160, 320, 640])
    fig1, ax = plt.subplots(figsize=(6.4, 4.2))
    for p in (1, 2, 3, 4):
        errs = [(sample(eps, x_T, ns, "lms", steps=int(n), skip_type="logSNR", order=p) - ref).norm(dim=1).mean().item()
                for n in steps]
        ax.loglog(steps, errs, "o-", color=PALETTE[p - 1], label=f"LMS-{p}", ms=4)
        ax.loglog(steps, errs[-1] * (steps / steps[-1]) ** -float(p), "--", color=PALETTE[p - 1], lw=0.8, alpha=0.6)
    ax.set_xlabel("steps (= model evaluations)")
    ax.set_ylabel("mean error vs exact ODE solution")
    ax.legend(fontsize=8)

    ring = mixture_2d("ring8")
    eps2 = ring.noise_fn(ns)
    x0 = torch.randn(40, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(SEED + 1))
    data = ring.sample(2000, torch.Generator().manual_seed(SEED + 2)).numpy()
    fig2, axes = plt.subplots(1, 3, figsize=(10, 3.6), sharex=True, sharey=True)
    panels = [("DDIM (η = 0)", "ddim", {}), ("Euler a (DDIM, η = 1)", "ddim", {"eta": 1.0}),
              ("DPM++ 2S a ($\\eta = 1$)", "dpmpp_2s_ancestral", {"eta": 1.0})]
    for k, (a, (label, method, kw)) in enumerate(zip(axes, panels)):
        path = []
        out = sample(eps2, x0, ns, method, steps=20, skip_type="karras", generator=torch.Generator().manual_seed(3),
                     denoise_to_zero=True, callback=lambda d, path=path: path.append(d["x_t"].clone()), **kw)
        P = torch.stack(path + [out]).numpy()  # (calls + 1, B, 2): the state at every grid level, then x_0
        paths_panel(a, P, data, PALETTE[k], label, n_paths=8)  # a few paths, all end points
    return {"lms-orders": fig1, "ancestral-paths": fig2}
