"""Figures for "Sample quality vs NFE": digits-FID curves and a grid of samples per sampler at NFE 10."""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from matplotlib.ticker import NullFormatter

from figures._style import PALETTE, apply_style

ROOT = Path(__file__).resolve().parents[1]
DEPENDS = ["docs/demos/quality-cpu.json", "src/difflearn/weights/digits-uncond.safetensors",
           "benchmarks/quality.py"]
SEED = 0
# the rows drawn (logSNR grid); the table has more
PLOTTED = ["DDIM", "DPM-Solver-2", "DPM-Solver-3", "DPM-Solver++(2M)", "DPM-Solver++(3M)", "UniPC", "Heun", "LMS-4",
           "DPM++ 2S a (eta 1)"]
FIGURES = {
    "quality-fid-vs-nfe": {
        "alt": "Line plot of digits-FID (log scale) against the number of model evaluations (5 to 50) for "
               "DDIM, DPM-Solver-2, DPM-Solver-3, DPM-Solver++(2M), DPM-Solver++(3M), UniPC, Heun, LMS-4 and "
               "the ancestral DPM++ 2S a on the logSNR grid, and UniPC on its optimised grid. The higher-order "
               "multistep solvers reach a low FID with fewer evaluations than DDIM; Heun and the singlestep "
               "solvers are the worst at 5 evaluations; LMS-4 lies between DDIM and the exponential-integrator "
               "solvers; the ancestral sampler is poor at few evaluations and the closest to the real-data line "
               "at 50; UniPC on the optimised grid is the lowest line at 5, 6 and 10 evaluations "
               "(DPM-Solver++(3M) is lower at 8).",
        "caption": "digits-FID of samples of the shipped `digits-uncond` model against the real digits, vs "
                   "NFE, from the table above (the same numbers, read from `docs/demos/quality-cpu.json`): the "
                   "samplers on the logSNR grid, and UniPC on the grid optimised for it (NFE 5 to 10). The "
                   "dashed line is two halves of the real data.",
    },
    "quality-samples-nfe10": {
        "alt": "A grid with one row per sampler (DDIM, DPM-Solver-2, DPM-Solver-3, DPM-Solver++(2M), "
               "DPM-Solver++(3M), UniPC, Heun, LMS-4, DPM++ 2S a) and the same sixteen starting noises in the "
               "columns: 8x8 digits sampled with 10 model evaluations. Most deterministic rows show the same "
               "digits; DDIM's are greyer and blurrier, Heun's (only 5 steps) differ most, the ancestral "
               "row shows different digits, and one column is a sample that overshoots to a white square "
               "in most rows.",
        "caption": "`digits-uncond` sampled at NFE 10 (Heun and DPM++ 2S a: 5 steps of 2 evaluations) from the same "
                   "$x_T$ in every row, logSNR steps. The white square is a sample whose stroke pixels overshoot far "
                   "above 1 (shown clamped): the small model's known failure, about one sample in fifty.",
    },
}


def render(quick: bool, device: str) -> dict:
    from benchmarks.quality import SAMPLERS  # the benchmark's own sampler table
    from difflearn import model_wrapper, sample
    from difflearn.pretrained import load

    apply_style()
    record = json.loads((ROOT / "docs/demos/quality-cpu.json").read_text())
    fig1, ax = plt.subplots(figsize=(7, 4.2))
    markers = "os^vDPX<>h*"
    shown = [*PLOTTED, "UniPC (optimised)"]
    for k, label in enumerate(shown):
        pts = [(n, f) for n, f in zip(record["nfe_used"][label], record["fid"][label]) if f is not None]
        ax.plot(*zip(*pts), marker=markers[k], color=PALETTE[k % len(PALETTE)],
                ls="--" if k >= len(PALETTE) else "-", label=label)  # dashed once the colours repeat
    ax.axhline(record["real_vs_real"], color="0.5", ls="--", lw=1, label="real vs real")
    ax.set(xscale="log", yscale="log", xlabel="NFE (model evaluations)", ylabel="digits-FID")
    ax.set_xticks(record["nfes"], [str(n) for n in record["nfes"]])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.legend(ncols=2, fontsize=8)

    model, ns, _ = load("digits-uncond", device=device)
    fn = model_wrapper(model, ns)
    cols = 8 if quick else 16
    x_T = torch.randn(cols, 1, 8, 8, generator=torch.Generator().manual_seed(SEED)).to(device)
    fig2, axes = plt.subplots(len(PLOTTED), 1, figsize=(cols * 0.55, len(PLOTTED) * 0.7))
    for ax2, label in zip(axes, PLOTTED):
        method, kw, steps_for = SAMPLERS[label]
        kw = dict(kw)
        if "seed" in kw:  # a stochastic sampler, seeded as in the benchmark
            kw["generator"] = torch.Generator(device=device).manual_seed(kw.pop("seed"))
        with torch.no_grad():
            x = sample(fn, x_T, ns, method=method, steps=steps_for(10), skip_type="logSNR", **kw)
        row = x.clamp(-1, 1).cpu()[:, 0].permute(1, 0, 2).reshape(8, -1)  # (8, cols * 8)
        ax2.imshow(row, cmap="gray", vmin=-1, vmax=1)
        ax2.set_xticks([]), ax2.set_yticks([]), ax2.grid(False)
        ax2.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    return {"quality-fid-vs-nfe": fig1, "quality-samples-nfe10": fig2}
