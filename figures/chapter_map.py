"""The chapter map on the landing page: the learning path as four columns of boxes.

Drawn from the same source as the site's reading order: the "read" links of
docs/learning-path.md, read by tools/hooks/reading_order.py.
"""

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: I001

from figures._style import PALETTE, apply_style

ROOT = Path(__file__).resolve().parents[1]
DEPENDS = ["docs/learning-path.md", "tools/hooks/reading_order.py"]
SEED = 0
COLUMNS = [("Foundations", ("notes/",)), ("Math review", ("math/",)),
           ("Samplers", ("samplers/",)), ("Demos, models, practice", ("demos/", "models/", "guides/"))]
FIGURES = {
    "chapter-map": {
        "alt": "The learning path as four columns of boxes: Foundations (forward "
               "process, DDPM, score matching, score SDEs, DDIM, Analytic-DPM, guidance, flow "
               "matching), a math review of ODEs and SDEs to read when needed, Samplers (from "
               "the probability-flow ODE and DDIM through DPM-Solver, UniPC, EDM, LMS, SDE "
               "samplers, choosing a sampler and the Rosetta) and demos, the UNet and guides.",
        "caption": "The learning path, read column by column: each box is a chapter, in the "
                   "order that the Next link at the end of every page follows. The math review "
                   "is for when a chapter needs it.",
    },
}


def render(quick: bool, device: str) -> dict:
    from tools.hooks import reading_order

    apply_style()
    titles = reading_order.learning_path_titles()  # {page: its link text}, in order
    path = list(titles)
    fig, axes = plt.subplots(1, len(COLUMNS), figsize=(8.3, 6.2))
    rows = max(sum(p.startswith(pre) for p in path) for _, pre in COLUMNS)
    for ax, (name, prefixes), color in zip(axes, COLUMNS, PALETTE):
        pages = [p for p in path if p.startswith(prefixes)]
        ax.set_xlim(0, 1)
        ax.set_ylim(-rows + 0.4, 0.6)
        ax.axis("off")
        ax.set_title(name, fontsize=10.5, fontweight="bold", color=color, loc="left")
        for i, page in enumerate(pages):
            label = textwrap.fill(titles.get(page, page), 20)
            ax.add_patch(FancyBboxPatch((0.02, -i - 0.4), 0.96, 0.8, boxstyle="round,pad=0,rounding_size=0.06",
                                        fc=color, alpha=0.14, ec=color, lw=1))
            ax.text(0.08, -i, label, ha="left", va="center", fontsize=10, linespacing=1.0)
            if i:
                ax.add_patch(FancyArrowPatch((0.5, -i + 0.6), (0.5, -i + 0.4), arrowstyle="-|>",
                                             mutation_scale=8, color=color, lw=1))
    return {"chapter-map": fig}
