"""Figures for the "Few steps" chapters: the benchmark, samples of the shipped few-step models, 2-D maps and paths."""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from figures._style import PALETTE, apply_style

ROOT = Path(__file__).resolve().parents[1]
DEPENDS = ["docs/fewstep/benchmark-cpu.json", "src/difflearn/fewstep/consistency.py",
           "src/difflearn/fewstep/distillation.py", "src/difflearn/fewstep/reflow.py",
           "src/difflearn/weights/digits-pd-2.safetensors", "src/difflearn/weights/digits-cd.safetensors",
           "src/difflearn/weights/digits-rf2.safetensors", "src/difflearn/weights/ring8-pd-1.safetensors",
           "src/difflearn/weights/ring8-cd.safetensors", "src/difflearn/weights/ring8-rf1.safetensors",
           "src/difflearn/weights/ring8-rf2.safetensors"]
SEED = 0
FIGURES = {
    "fewstep-fid-vs-calls": {
        "alt": "Two line plots. Left: digits-FID (log scale) against the number of model calls, 1, 2, 4 and 8, for "
               "the teacher with its best ODE solver, progressive distillation, consistency distillation, "
               "consistency training, the 1-rectified flow and the reflowed flow; a dashed line marks the "
               "teacher at 20 calls and a dotted one two halves of the real digits. Right: on the 2-D mixture "
               "ring8, the distance to the exact probability-flow map against the number of calls for the "
               "deterministic samplers.",
        "caption": "The benchmark of this page, read from `docs/fewstep/benchmark-cpu.json`. Left: digits-FID of 899 "
                   "samples at 1–8 model calls. Right: RMS distance to the exact PF-ODE map on ring8 (the "
                   "consistency models only at one call, where their sampler is a map).",
    },
    "fewstep-samples": {
        "alt": "A grid of 8x8 digits: one row per sampler (the teacher with two calls, the teacher with 20, the "
               "two-step progressive-distillation student, the consistency-distilled model with one and two "
               "calls, the reflowed flow with one Euler step), the same twelve starting noises in the "
               "columns. The teacher at two calls gives grey blobs; the others give recognisable digits. In the "
               "seventh column both teacher rows are a solid black square, and every student row a digit.",
        "caption": "Samples of the shipped few-step models from the same $x_T$ in every row (consistency sampling "
                   "re-noises with its own noise at the second call). The seventh start is one from which the "
                   "teacher's own probability-flow ODE leaves the data range (pixels up to 2.7, shown clipped; "
                   "250 DDIM steps give the same): a flaw of the teacher, not of its solver, which the "
                   "students did not learn.",
    },
    "fewstep-ring8-maps": {
        "alt": "Five square scatter plots of 2-D points over the eight modes of the ring8 mixture: the exact "
               "probability-flow map of 600 noise samples, the teacher's one-step DDIM (all points near the "
               "centre), the one-step progressive-distillation student, the consistency-distilled model at one "
               "call and the reflowed flow with one Euler step, each near the eight modes with some points in "
               "between.",
        "caption": "One model call on the 2-D mixture ring8, from the same 600 noise samples: where the exact "
                   "probability-flow ODE sends them, where one DDIM step of the exact teacher sends them (the "
                   "mean), and the three one-call students.",
    },
    "consistency-paths": {
        "alt": "A square plot over the eight modes of ring8: ten curved exact probability-flow paths from noise "
               "to the modes, and for points along each path the output of the consistency model, small dots "
               "coloured by noise level that cluster around the path's end point, marked with a star.",
        "caption": "Consistency, seen on the 2-D mixture: along exact probability-flow paths (lines), the shipped "
                   "`ring8-cd` maps every point $(\\tilde x, \\tilde\\sigma)$ (dots, coloured from high noise, light, to low, "
                   "dark) close to the same end point (star), the exact solution.",
    },
    "reflow-paths": {
        "alt": "Two square panels of 2-D paths from noise to the eight modes of ring8. Left: paths of the "
               "1-rectified flow, curved, many bending between modes. Right: paths of the reflowed "
               "2-rectified flow from the same starting points, nearly straight lines.",
        "caption": "Paths of the shipped `ring8-rf1` (trained on independent pairs) and `ring8-rf2` (reflowed on "
                   "the pairs of `ring8-rf1`), 32 Euler steps from the same noise. Reflow straightens the paths, "
                   "which is why one Euler step of it lands close to where the curved flow ends.",
    },
}

LABELS = ["teacher (best ODE solver)", "progressive distillation", "consistency distillation",
          "consistency training (iCT)", "1-rectified flow", "2-rectified flow (reflow)"]


def render(quick: bool, device: str) -> dict:
    apply_style()
    record = json.loads((ROOT / "docs/fewstep/benchmark-cpu.json").read_text())
    return {"fewstep-fid-vs-calls": fid_plot(record), "fewstep-samples": samples(quick),
            "fewstep-ring8-maps": ring8_maps(quick), "consistency-paths": consistency_paths(quick),
            "reflow-paths": reflow_paths(quick)}


def fid_plot(record):
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(9, 4.2))
    d, m = record["digits"], record["mixture"]
    markers = "osD^vP"
    for k, label in enumerate(LABELS):
        row = d["rows"].get(label, {})
        calls = sorted(int(c) for c in row if int(c) <= 8)
        if calls:
            ax.plot(calls, [row[str(c)]["fid"] for c in calls], marker=markers[k], color=PALETTE[k], label=label)
    teacher20 = d["rows"]["teacher (best ODE solver)"].get("20")
    if teacher20:
        ax.axhline(teacher20["fid"], color=PALETTE[0], ls="--", lw=1, label="teacher, 20 calls")
    ax.axhline(d["real_vs_real"], color="0.5", ls=":", lw=1.2, label="real vs real")
    ax.set(xscale="log", yscale="log", xlabel="model calls", ylabel="digits-FID", title="digits")
    ax.set_xticks([1, 2, 4, 8], ["1", "2", "4", "8"])
    ax.minorticks_off()
    labels = {"exact teacher (best ODE solver)": LABELS[0]}
    for k, label in enumerate(LABELS):
        key = next((name for name, alias in labels.items() if alias == label), label)
        row = m["rows"].get(key, {})
        calls = sorted(int(c) for c, v in row.items() if v["map_error"] is not None)
        if calls:
            bx.plot(calls, [row[str(c)]["map_error"] for c in calls], marker=markers[k], color=PALETTE[k])
    bx.set(xscale="log", yscale="log", xlabel="model calls", ylabel="RMS distance to the exact map",
           title="ring8 (2-D)")
    bx.set_xticks([1, 2, 4, 8], ["1", "2", "4", "8"])
    bx.minorticks_off()
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=3, fontsize=10)
    return fig


def _digits_row(ax_row, x, label):
    for ax, img in zip(ax_row, x):
        ax.imshow(img[0].clamp(-1, 1).numpy(), cmap="gray_r", vmin=-1, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    ax_row[0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)


def samples(quick: bool):
    from difflearn import model_wrapper, sample
    from difflearn.fewstep import consistency_model_fn, consistency_sampling, consistency_timesteps, student_timesteps, velocity_fn
    from difflearn.pretrained import load
    from difflearn.samplers import ddim, flow_euler, flow_timesteps

    n = 12
    x_T = torch.randn(n, 1, 8, 8, generator=torch.Generator().manual_seed(SEED))
    teacher, ns, _ = load("digits-uncond")
    pd, _, _ = load("digits-pd-2")
    cd, _, card = load("digits-cd")
    rf2, _, _ = load("digits-rf2")
    cm = consistency_model_fn(model_wrapper(cd, ns, model_type="v"), ns, card["sigma_min"])
    with torch.no_grad():
        rows = [("teacher, 2 calls", sample(model_wrapper(teacher, ns), x_T, ns, method="unipc", steps=2,
                                            skip_type="time_uniform")),
                ("teacher, 20 calls", sample(model_wrapper(teacher, ns), x_T, ns, method="unipc", steps=20,
                                             skip_type="logSNR")),
                ("PD student, 2 calls", ddim(model_wrapper(pd, ns, model_type="v"), x_T, ns, student_timesteps(ns, 2))),
                ("CD, 1 call", consistency_sampling(cm, x_T, ns, consistency_timesteps(ns, 1))),
                ("CD, 2 calls", consistency_sampling(cm, x_T, ns, consistency_timesteps(ns, 2),
                                                     generator=torch.Generator().manual_seed(1))),
                ("reflow, 1 Euler step", flow_euler(velocity_fn(rf2), x_T, flow_timesteps(1)))]
    fig, axes = plt.subplots(len(rows), n, figsize=(9, 0.8 * len(rows) + 0.3))
    for ax_row, (label, x) in zip(axes, rows):
        _digits_row(ax_row, x, label)
    return fig


def ring8_maps(quick: bool):
    from difflearn import mixture_2d, model_wrapper
    from difflearn.fewstep import consistency_model_fn, consistency_sampling, consistency_timesteps, student_timesteps, velocity_fn
    from difflearn.pretrained import load
    from difflearn.samplers import ddim, flow_euler, flow_timesteps

    gm = mixture_2d("ring8")
    n = 200 if quick else 600
    z = torch.randn(n, 2, generator=torch.Generator().manual_seed(SEED))
    pd, ns, _ = load("ring8-pd-1")
    cd, _, card = load("ring8-cd")
    rf2, _, _ = load("ring8-rf2")
    exact = model_wrapper(gm.noise_fn(ns, time_input="discrete"), ns)
    with torch.no_grad():
        panels = [("exact PF-ODE map", gm.pf_ode_solve(z.double(), 1.0, 1e-3, ns, rtol=1e-6, atol=1e-6)),
                  ("teacher, 1 DDIM step", ddim(exact, z.double(), ns, student_timesteps(ns, 1))),
                  ("PD student, 1 step", ddim(model_wrapper(pd, ns, model_type="v"), z, ns, student_timesteps(ns, 1))),
                  ("CD, 1 call", consistency_sampling(consistency_model_fn(model_wrapper(cd, ns, model_type="v"), ns,
                                                                           card["sigma_min"]), z, ns,
                                                      consistency_timesteps(ns, 1))),
                  ("reflow, 1 Euler step", flow_euler(velocity_fn(rf2), z, flow_timesteps(1)))]
    data = gm.sample(2000, generator=torch.Generator().manual_seed(1)).numpy()
    fig, axes = plt.subplots(1, len(panels), figsize=(9, 2.4), sharex=True, sharey=True)
    for k, (ax, (title, x)) in enumerate(zip(axes, panels)):
        ax.scatter(data[:, 0], data[:, 1], s=1, color="lightgrey")
        ax.scatter(x[:, 0].numpy(), x[:, 1].numpy(), s=2, color=PALETTE[k % len(PALETTE)])
        ax.set_title(title, fontsize=10)
        ax.set_aspect("equal")
        ax.set_xlim(-3, 3)
        ax.set_ylim(-3, 3)
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def consistency_paths(quick: bool):
    from difflearn import mixture_2d, model_wrapper
    from difflearn.fewstep import consistency_function, consistency_timesteps
    from difflearn.pretrained import load

    gm = mixture_2d("ring8")
    cd, ns, card = load("ring8-cd")
    f = consistency_function(model_wrapper(cd, ns, model_type="v"), ns, card["sigma_min"])
    n = 6 if quick else 10
    z = torch.randn(n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(SEED + 1))
    t0 = float(consistency_timesteps(ns, 1)[0])
    times = torch.linspace(t0, 0.002, 10 if quick else 24, dtype=torch.float64).tolist()
    states = [z] + [gm.pf_ode_solve(z, t0, t, ns, rtol=1e-7, atol=1e-7) for t in times[1:]]
    end = gm.pf_ode_solve(z, t0, 1e-3, ns, rtol=1e-7, atol=1e-7)
    data = gm.sample(2000, generator=torch.Generator().manual_seed(1)).numpy()
    fig, ax = plt.subplots(figsize=(5.2, 5.2))
    ax.scatter(data[:, 0], data[:, 1], s=1, color="lightgrey")
    cmap = plt.get_cmap("viridis_r")
    for k, (t, x) in enumerate(zip(times, states)):
        m = ns.marginals([t])
        with torch.no_grad():
            out = f((x / float(m.alpha[0])).float(), float(m.sigma_ve[0]))
        ax.scatter(out[:, 0], out[:, 1], s=10, color=cmap(k / (len(times) - 1)), zorder=3)
    path = torch.stack(states).numpy()  # (times, n, 2)
    for b in range(n):
        ax.plot(path[:, b, 0], path[:, b, 1], color=PALETTE[0], lw=0.8, alpha=0.7)
    ax.scatter(end[:, 0], end[:, 1], marker="*", s=140, color=PALETTE[1], edgecolor="black", zorder=4,
               label="exact end point")
    ax.set_aspect("equal")
    lim = max(3.0, float(abs(path).max()) + 0.2)  # every path inside the axes
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.legend(fontsize=10, loc="upper right")
    return fig


def reflow_paths(quick: bool):
    from difflearn.data import mixture_2d
    from difflearn.pretrained import load

    n = 60 if quick else 150
    z = torch.randn(n, 2, generator=torch.Generator().manual_seed(SEED + 2))
    data = mixture_2d("ring8").sample(2000, generator=torch.Generator().manual_seed(1)).numpy()
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.4), sharex=True, sharey=True)
    for ax, name, title, color in ((axes[0], "ring8-rf1", "1-rectified flow", PALETTE[4]),
                                   (axes[1], "ring8-rf2", "after reflow", PALETTE[5])):
        paths = np.stack([s.numpy() for s in _euler_states(load(name)[0], z, 32)])  # (33, n, 2)
        ax.scatter(data[:, 0], data[:, 1], s=1, color="lightgrey")
        for b in range(n):
            ax.plot(paths[:, b, 0], paths[:, b, 1], color=color, lw=0.7, alpha=0.8)
        ax.scatter(paths[0, :, 0], paths[0, :, 1], s=5, color="0.3", zorder=3)
        ax.scatter(paths[-1, :, 0], paths[-1, :, 1], s=6, color="black", zorder=3)
        ax.set_title(title)
        ax.set_aspect("equal")
        ax.set_xlim(-3.3, 3.3)
        ax.set_ylim(-3.3, 3.3)
    return fig


def _euler_states(model, z, steps):
    from difflearn.fewstep import velocity_fn
    from difflearn.samplers import flow_timesteps

    ts = flow_timesteps(steps).tolist()
    v, x, out = velocity_fn(model), z, [z]
    with torch.no_grad():
        for t, s in zip(ts[:-1], ts[1:]):
            x = x + (s - t) * v(x, torch.full((len(x),), t))
            out.append(x)
    return out
