"""Shared look of the site's figures: readable on the light and the dark palette.

Figures are drawn on an opaque off-white card (see docs/assets/extra.css) with
colour-blind-safe colours (Okabe–Ito), so the same PNG works on both palettes.
"""

import matplotlib as mpl

PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]


def apply_style() -> None:
    mpl.rcParams.update({
        "figure.facecolor": "#fcfcfc",
        "axes.facecolor": "#fcfcfc",
        "savefig.facecolor": "#fcfcfc",
        "axes.prop_cycle": mpl.cycler(color=PALETTE),
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "font.size": 10,
        "axes.titlesize": 11,
        "legend.frameon": False,
        "figure.dpi": 100,
        "figure.constrained_layout.use": True,
    })
