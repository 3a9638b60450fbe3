"""Figures for "Where to step": the local error across lambda, the grids themselves, and
the tangent law on a single Gaussian."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from figures._style import PALETTE, apply_style

ROOT = Path(__file__).resolve().parents[1]
DEPENDS = ["src/difflearn/samplers/grid_costs.py", "src/difflearn/samplers/grid_search.py",
           "src/difflearn/samplers/deis.py", "src/difflearn/samplers/unipc.py", "src/difflearn/samplers/ddim.py",
           "src/difflearn/data/mixture.py", "src/difflearn/schedules/grids.py",
           "src/difflearn/weights/digits-uncond.safetensors", "src/difflearn/weights/grids/digits-uncond.json"]
SEED = 0
FIGURES = {
    "where-local-error": {
        "alt": "Two panels sharing a horizontal axis, the half log-SNR lambda from -5 to 4.6. Each shows the "
               "error of one DDIM step of fixed length in lambda, taken from the exact trajectory, against "
               "lambda: left for the 2-D Gaussian mixture, right for the digits model. Both curves peak near "
               "lambda = 0 and fall by one to three orders of magnitude towards the clean end; the mixture's "
               "also falls towards the noisy end, the digits model's stays flat there. Tick marks along the bottom show the "
               "optimised 10-step grid of UniPC, densest under the peak.",
        "caption": "Where a step is expensive: the error of one DDIM step of length Δλ = 0.6 from the reference "
                   "trajectory, per unit of Δλ² (the local error density), along λ. Ticks: the 10-step grid "
                   "optimised for UniPC on that model.",
    },
    "where-grids": {
        "alt": "Two panels, the exact mixture and the digits model. Each has one row per 10-step grid, drawn "
               "as dots on the half log-SNR axis: the four fixed grids (time_uniform, logSNR, time_quadratic, "
               "karras), the dynamic-programming grids of GITS and of the AYS bound, and the grid optimised "
               "for UniPC-2. time_uniform crowds its points at the noisy end and karras at the "
               "clean end; the AYS grid jumps from the noisiest point to the middle and then packs the clean "
               "end; the optimised grid concentrates in the middle range where the local error peaks.",
        "caption": "The grids themselves, 10 steps from t = 1 to t = 10⁻³, in λ. The last row is "
                   "optimised for UniPC-2 on calibration noises (for the digits model, the grid shipped with "
                   "the package).",
    },
    "where-tangent-law": {
        "alt": "Log-log plot of the relative error of DDIM on a single Gaussian against the number of steps, "
               "2 to 40, for the four fixed grids and the tangent grid uniform in arctan(sigma/s). Markers "
               "(measured by sampling) sit on lines (the closed form 1 minus the product of cos of the angle "
               "steps). The tangent grid is the lowest line at every N, about half of logSNR's error.",
        "caption": "DDIM on data N(μ, s²I), s = 0.5: relative error at t = 10⁻³ against N. Lines: the closed "
                   "form 1 − ∏ cos Δθᵢ with θ = arctan(σ̃/s); markers: measured. Uniform steps in θ (the "
                   "tangent law) are optimal for every N.",
    },
}


def _digits():
    from difflearn import model_wrapper
    from difflearn.pretrained import load

    model, ns, _ = load("digits-uncond")
    return model_wrapper(model, ns), ns


def _local_error(ref, k):
    """The DDIM error of a k-candidate step from every candidate, per unit of d-lambda^2 (RMS per coordinate)."""
    from difflearn.samplers.grid_costs import local_error_costs

    C = local_error_costs(ref.cand, ref.states, ref.x0_preds)
    d = ref.states[0].flatten(1).shape[1]
    j = np.arange(len(ref.cand) - k)
    dl = ref.cand.lam[j + k] - ref.cand.lam[j]
    return 0.5 * (ref.cand.lam[j] + ref.cand.lam[j + k]), C[j, j + k] / np.sqrt(d) / dl**2


def render(quick: bool, device: str) -> dict:
    from benchmarks.solvers import mixture
    from difflearn import GaussianMixture, NoiseScheduleVP, sample
    from difflearn.data import load_digits
    from difflearn.samplers import calibrate, load_grid, optimise_grid
    from difflearn.samplers.grid_costs import klub_costs, local_error_costs, shortest_path
    from difflearn.schedules import time_steps

    apply_style()
    torch.manual_seed(SEED)
    N = 10
    ns_m, gm = mixture()
    eps_m = gm.noise_fn(ns_m)
    x_cal = torch.randn(64 if quick else 256, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    ref_m = calibrate(eps_m, x_cal, ns_m, 1.0, 1e-3, candidates=64, substeps=4 if quick else 8)
    fn_d, ns_d = _digits()
    xd = torch.randn(16 if quick else 64, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref_d = calibrate(fn_d, xd, ns_d, 1.0, 1e-3, candidates=64, substeps=2 if quick else 4)
    maxfev = 30 if quick else 400
    opt_m = {"optimised, UniPC-2": optimise_grid(eps_m, x_cal, ns_m, "unipc", N, reference=ref_m, maxfev=maxfev).lam}
    opt_d = {"optimised, UniPC-2": ns_d.marginals(load_grid("digits-uncond", "unipc", N)).lam}  # shipped

    fig1, axes = plt.subplots(1, 2, figsize=(7, 3.0), sharex=True)
    for ax, ref, opt, title in ((axes[0], ref_m, opt_m, "exact 2-D mixture"), (axes[1], ref_d, opt_d, "digits-uncond")):
        lam, err = _local_error(ref, 4)
        ax.semilogy(lam, err, color=PALETTE[0])
        lo = ax.get_ylim()[0]
        ax.plot(opt["optimised, UniPC-2"], np.full(N + 1, lo), "|", color=PALETTE[1], ms=14, mew=2, clip_on=False)
        ax.set(title=title, xlabel="λ (half log-SNR)")
    axes[0].set_ylabel("local error / Δλ²")

    def rows(ns, ref, x0, opt, seed):
        t0, t1 = float(ref.cand.t[0]), float(ref.cand.t[-1])
        out = {sk: ns.marginals(time_steps(ns, sk, t0, t1, N, dtype=torch.float64)).lam
               for sk in ("time_uniform", "logSNR", "time_quadratic", "karras")}
        out["GITS (DP)"] = ref.cand.lam[shortest_path(local_error_costs(ref.cand, ref.states, ref.x0_preds), N)]
        with torch.no_grad():
            C = klub_costs(ref_fn[id(ref)], x0, ref.cand, torch.Generator().manual_seed(seed))
        out["AYS bound (DP)"] = ref.cand.lam[shortest_path(C, N)]
        return {**out, **opt}

    ref_fn = {id(ref_m): eps_m, id(ref_d): fn_d}
    digits, _ = load_digits(8)
    g = torch.Generator().manual_seed(2)
    grids_m = rows(ns_m, ref_m, gm.sample(512 if quick else 4096, generator=g), opt_m, 3)
    grids_d = rows(ns_d, ref_d, digits[torch.randperm(len(digits), generator=g)[: 64 if quick else 512]], opt_d, 3)
    fig2, axes = plt.subplots(1, 2, figsize=(7, 3.4), sharey=True)
    for ax, grids, title in ((axes[0], grids_m, "exact 2-D mixture"), (axes[1], grids_d, "digits-uncond")):
        for k, lam in enumerate(grids.values()):
            ax.plot(lam, np.full(len(lam), -k), "o", ms=4, color=PALETTE[k % len(PALETTE)])
        ax.set_yticks(-np.arange(len(grids)), list(grids))
        ax.set(title=title, xlabel="λ (half log-SNR)")
        ax.grid(axis="y", alpha=0.0)

    s = 0.5
    g1 = GaussianMixture([[0.3, -0.2]], s)
    ns = NoiseScheduleVP("linear")
    x = torch.randn(64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(SEED))
    exact = g1.pf_ode_solve(x, 1.0, 1e-3, ns)
    scale = (exact - ns.marginals([1e-3]).alpha[0] * g1.means[0]).norm(dim=1)
    th_ends = np.arctan(ns.marginals([1.0, 1e-3]).sigma_ve / s)
    Ns = np.array([2, 3, 5, 8, 12, 20, 40])
    fig3, ax = plt.subplots(figsize=(6.4, 3.6))
    for k, name in enumerate(("time_uniform", "logSNR", "time_quadratic", "karras", "tangent")):
        closed, measured = [], []
        for n in Ns:
            if name == "tangent":
                t = ns.inverse_lambda(torch.as_tensor(-np.log(s * np.tan(np.linspace(*th_ends, n + 1)))))
                t[0], t[-1] = 1.0, 1e-3
            else:
                t = time_steps(ns, name, 1.0, 1e-3, int(n), dtype=torch.float64)
            th = np.arctan(ns.marginals(t).sigma_ve / s)
            closed.append(1 - np.prod(np.cos(np.diff(th))))
            out = sample(g1.noise_fn(ns), x, ns, "ddim", timesteps=t)
            measured.append(((out - exact).norm(dim=1) / scale).mean().item())
        ax.loglog(Ns, closed, "-", color=PALETTE[k], label=name if name != "tangent" else "tangent (uniform θ)")
        ax.loglog(Ns, measured, "o", color=PALETTE[k], ms=5)
    ax.set(xlabel="N (steps)", ylabel="relative error of DDIM")
    ax.set_xticks(Ns, [str(n) for n in Ns])
    ax.minorticks_off()
    ax.legend()
    return {"where-local-error": fig1, "where-grids": fig2, "where-tangent-law": fig3}
