"""Figures for the "Editing" chapters: SDEdit's trade-off, inpainting, inversion under guidance, DiffEdit masks."""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from figures._style import PALETTE, apply_style

ROOT = Path(__file__).resolve().parents[1]
DEPENDS = ["docs/editing/editing-cpu.json", "src/difflearn/editing/sdedit.py", "src/difflearn/editing/inpainting.py",
           "src/difflearn/editing/inversion.py", "src/difflearn/editing/diffedit.py",
           "src/difflearn/weights/digits-uncond.safetensors", "src/difflearn/weights/digits-cond.safetensors",
           "benchmarks/editing.py"]
SEED = 0
FIGURES = {
    "sdedit-tradeoff": {
        "alt": "Left: a plot against SDEdit's strength of the RMS distance of the output to the guide, rising, and "
               "of the digits-FID of the outputs, falling from the guides' value; the fraction of outputs still "
               "classified as the original digit falls too. Right: a grid of digits, one column per strength, the "
               "first column the blocky 4x4 guides: small strengths keep the blocks, large ones give clean digits "
               "that are often a different digit.",
        "caption": "SDEdit on `digits-uncond` with blocky 4x4 guides: faithfulness (distance to the guide, same "
                   "digit) against realism (digits-FID) as the strength grows, from `docs/editing/editing-cpu.json`; "
                   "right, the same guides edited at each strength.",
    },
    "inpainting-border": {
        "alt": "A grid of digits in five rows: the original digits, the known top halves, the completions by "
               "replacement, by replacement with five times the steps, and by RePaint resampling; beside it a bar "
               "chart of the border gap of each method and of the real digits.",
        "caption": "Inpainting the bottom half of held-out digits with `digits-uncond`. The bars are the measured "
                   "border gap (mean jump across the edge of the mask) from `docs/editing/editing-cpu.json`; the "
                   "real digits' value is the dashed line.",
    },
    "inversion-guidance": {
        "alt": "Left: the round-trip error of DDIM inversion against the number of steps, on log axes, falling. "
               "Right: the round-trip error under classifier-free guidance against the guidance scale, rising for "
               "plain DDIM inversion; null-text inversion stays flat near 0.045, below even the unguided round trip; with the relative change of the "
               "guided noise prediction per step on a second axis.",
        "caption": "DDIM inversion measured on the digits (`docs/editing/editing-cpu.json`): the round trip becomes "
                   "exact as steps grow (left) and breaks as the guidance scale grows (right); null-text inversion (10 Adam "
                   "steps of rate 0.1 per step) holds the guided reconstruction on its pivot at every scale.",
    },
    "diffedit-masks": {
        "alt": "Four column groups, one per edit (3 to 8, 1 to 7, 7 to 9, 5 to 6): the input digit, the rescaled "
               "difference of the two noise predictions as a heat map, the thresholded mask, and the edited digit.",
        "caption": "DiffEdit on `digits-cond`: the mask is inferred from where the noise predictions under class A "
                   "and class B disagree (t = 0.5, 10 noise draws), and only the masked pixels are edited.",
    },
}


def render(quick: bool, device: str) -> dict:
    apply_style()
    record = json.loads((ROOT / "docs/editing/editing-cpu.json").read_text())
    return {"sdedit-tradeoff": sdedit_figure(record, quick), "inpainting-border": inpainting_figure(record, quick),
            "inversion-guidance": inversion_figure(record), "diffedit-masks": diffedit_figure(quick)}


def _show(ax, img, cmap="gray_r", vmin=-1, vmax=1):
    ax.imshow(img.squeeze().numpy(), cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])


def _held_out(n):
    from difflearn.data import load_digits, split

    real, labels = load_digits(8)
    a, b = split(len(real), 0.5, seed=0)
    return real[b][:n], labels[b][:n], real, labels, b


def sdedit_figure(record, quick):
    from benchmarks.editing import coarse
    from difflearn import model_wrapper
    from difflearn.editing import sdedit, sdedit_timesteps
    from difflearn.pretrained import load

    rows = record["sdedit"]
    s = [r["strength"] for r in rows]
    fig = plt.figure(figsize=(9, 4.2))
    left, right = fig.subfigures(1, 2, width_ratios=[1.1, 1])
    ax = left.subplots()
    ax.plot(s, [r["to_guide"] for r in rows], marker="o", color=PALETTE[0], label="RMS distance to guide")
    ax.plot(s, [r["kept_class"] for r in rows], marker="s", color=PALETTE[2], label="still the same digit")
    ax.set(xlabel="strength $s = t_0 / T$", ylabel="distance / fraction")
    bx = ax.twinx()
    bx.plot(s, [r["fid"] for r in rows], marker="D", color=PALETTE[1], label="digits-FID (right axis)")
    bx.set(yscale="log", ylabel="digits-FID")
    bx.grid(False)
    handles = ax.get_legend_handles_labels()[0] + bx.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], fontsize=10, loc="center right")
    x0, _, _, _, _ = _held_out(5)
    guide = coarse(x0)
    model, ns, _ = load("digits-uncond")
    shown = (0.05, 0.1, 0.2, 0.3, 1.0)
    axes = right.subplots(len(x0), len(shown) + 1)
    with torch.no_grad():
        cols = [guide] + [sdedit(model_wrapper(model, ns), guide, ns, sdedit_timesteps(ns, st, max(2, round(50 * st))),
                                 generator=torch.Generator().manual_seed(1)) for st in shown]
    for j, (col, title) in enumerate(zip(cols, ["guide"] + [f"s={st:g}" for st in shown])):
        axes[0, j].set_title(title, fontsize=10)
        for i in range(len(x0)):
            _show(axes[i, j], col[i].clamp(-1, 1))
    return fig


def inpainting_figure(record, quick):
    from difflearn import model_wrapper
    from difflearn.editing import repaint
    from difflearn.pretrained import load
    from difflearn.schedules import time_steps

    x0, _, _, _, _ = _held_out(6)
    mask = torch.zeros(8, 8)
    mask[:4] = 1
    model, ns, _ = load("digits-uncond")
    fn = model_wrapper(model, ns)
    steps = 20 if quick else 50
    ts = time_steps(ns, "time_uniform", 1.0, 1e-3, steps, dtype=torch.float64)
    ts5 = time_steps(ns, "time_uniform", 1.0, 1e-3, 5 * steps, dtype=torch.float64)
    with torch.no_grad():
        rows = [("original", x0), ("known (top half)", x0 * mask + (1 - mask) * -1.0),
                ("replacement", repaint(fn, x0, mask, ns, ts, generator=torch.Generator().manual_seed(2))),
                ("replacement, 5x steps", repaint(fn, x0, mask, ns, ts5, generator=torch.Generator().manual_seed(2))),
                ("RePaint r=5", repaint(fn, x0, mask, ns, ts, resamplings=5,
                                        generator=torch.Generator().manual_seed(2)))]
    fig = plt.figure(figsize=(9, 4.2))
    left, right = fig.subfigures(1, 2, width_ratios=[1.2, 1])
    axes = left.subplots(len(rows), len(x0))
    for i, (label, x) in enumerate(rows):
        for j in range(len(x0)):
            _show(axes[i, j], x[j].clamp(-1, 1))
        axes[i, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
    ax = right.subplots()
    inp = record["inpainting"]
    names = [r["method"].replace(", 50 steps", "").replace(", ", ",\n") for r in inp["rows"]]
    ax.barh(names, [r["border_gap"] for r in inp["rows"]], color=PALETTE[:len(names)])
    ax.axvline(inp["real_border_gap"], color="0.3", ls="--", lw=1.2, label="real digits")
    ax.set(xlabel="border gap (mean jump across the mask edge)")
    ax.invert_yaxis()
    ax.legend(fontsize=10, loc="lower center", bbox_to_anchor=(0.5, 1.0))  # above the bars
    return fig


def inversion_figure(record):
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(9, 3.8))
    steps = record["inversion_steps"]
    ax.plot([s["steps"] for s in steps], [s["round_trip"] for s in steps], marker="o", color=PALETTE[0])
    ax.set(xscale="log", yscale="log", xlabel="DDIM steps", ylabel="round-trip RMS error",
           title="unconditional, no guidance")
    ax.set_xticks([s["steps"] for s in steps], [str(s["steps"]) for s in steps])
    ax.minorticks_off()
    g = record["inversion_guidance"]
    w = [r["scale"] for r in g]
    bx.plot(w, [r["round_trip"] for r in g], marker="o", color=PALETTE[1], label="DDIM inversion")
    bx.plot(w, [r["null_text"] for r in g], marker="s", color=PALETTE[2], label="null-text inversion")
    bx.set(yscale="log", xlabel="guidance scale $w$", ylabel="round-trip RMS error", title="guided, 20 steps")
    cx = bx.twinx()
    cx.plot(w, [r["eps_change_per_step"] for r in g], ls="--", color="0.4", label="change of guided $\\hat\\varepsilon$ per step")
    cx.set_ylabel("relative change per step")
    cx.grid(False)
    handles = bx.get_legend_handles_labels()[0] + cx.get_legend_handles_labels()[0]
    bx.legend(handles, [h.get_label() for h in handles], fontsize=10)
    return fig


def diffedit_figure(quick):
    from benchmarks.editing import PAIRS
    from difflearn import model_wrapper
    from difflearn.editing import diffedit, diffedit_mask
    from difflearn.pretrained import load
    from difflearn.schedules import time_steps

    _, _, real, labels, b = _held_out(0)
    cond, ns, card = load("digits-cond")
    null = card["null_class"]
    k = 2
    fig, axes = plt.subplots(k, 4 * len(PAIRS), figsize=(9, 0.62 * k + 0.45))  # square tiles, no gap
    for p, (cls_a, cls_b) in enumerate(PAIRS):
        xa = real[b][labels[b] == cls_a][:k]
        ya, yb = torch.full((k,), cls_a), torch.full((k,), cls_b)
        on = lambda y, w=1.0: model_wrapper(cond, ns, guidance_type="classifier-free", condition=y,  # noqa: E731
                                            unconditional_condition=torch.full_like(y, null), guidance_scale=w)
        mask, scores = diffedit_mask(on(yb), on(ya), xa, ns, generator=torch.Generator().manual_seed(3))
        ts = time_steps(ns, "time_uniform", 0.5, 1e-3, 25, dtype=torch.float64)
        with torch.no_grad():
            x = diffedit(on(yb, 3.0), on(torch.full_like(ya, null)), xa, mask, ns, ts)
        for i in range(k):
            cells = [(xa[i], "gray_r", -1, 1), (scores[i], "magma", 0, 1), (mask[i], "gray", 0, 1),
                     (x[i].clamp(-1, 1), "gray_r", -1, 1)]
            for j, (img, cmap, lo, hi) in enumerate(cells):
                _show(axes[i, 4 * p + j], img, cmap, lo, hi)
        for j, title in enumerate((f"{cls_a}", "score", "mask", f"-> {cls_b}")):
            axes[0, 4 * p + j].set_title(title, fontsize=10)
    return fig
