"""Figures for the page "The glyph data set"."""

import matplotlib.pyplot as plt
import torch

from figures._style import apply_style

DEPENDS = ["src/difflearn/data/glyphs.py", "src/difflearn/data/captions.py"]
SEED = 0
FIGURES = {
    "glyphs-samples": {
        "alt": "A grid of 15 small colour images, 3 rows of 5, each a digit drawn in red, green, blue, "
               "yellow, magenta or cyan on a dark or light grey background, some small and some large, "
               "some tilted left or right, each with its caption printed above it.",
        "caption": "The first 18 images of the test split of the glyph data set with their captions "
                   "(load_glyphs('test')). Some captions leave out the size, the rotation or the background.",
    },
    "glyphs-attributes": {
        "alt": "Five rows of small images. Each row varies one attribute of the same base image (a large "
               "red 3, upright, on a dark background) over all its values: the ten digits, the six "
               "colours, the two sizes, the three rotations and the two backgrounds.",
        "caption": "One attribute at a time (render_glyphs with all other attributes fixed, same random "
                   "details): what each caption word controls.",
    },
}


def _show(ax, img):
    ax.imshow(((img.permute(1, 2, 0) + 1) / 2).clamp(0, 1).numpy(), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.spines[:].set_visible(False)  # images need no frame
    for spine in ax.spines.values():
        spine.set_visible(False)


def render(quick: bool, device: str) -> dict:
    from difflearn.data import ATTRIBUTES, load_glyphs, render_glyphs

    apply_style()
    test = load_glyphs("test", n=15)
    fig1, axes = plt.subplots(3, 5, figsize=(10, 8.0))  # five columns: a caption line fits its image
    for i, ax in enumerate(axes.flat):
        _show(ax, test.images[i])
        lines = test.captions[i].split(", ")
        ax.set_title("\n".join(lines + [""] * (3 - len(lines))), fontsize=10)
    fig2, axes = plt.subplots(5, 10, figsize=(10, 5.6))
    base = {"glyph": 3, "colour": 0, "size": 1, "rotation": 0, "background": 0}
    for r, (name, values) in enumerate(ATTRIBUTES.items()):
        for c in range(10):
            ax = axes[r, c]
            if c >= len(values):
                ax.axis("off")
                continue
            attrs = {k: torch.tensor([c if k == name else v]) for k, v in base.items()}
            _show(ax, render_glyphs(attrs, torch.Generator().manual_seed(SEED))[0])
            ax.set_xlabel(values[c], fontsize=10)
        axes[r, 0].set_ylabel(name, fontsize=11)
    return {"glyphs-samples": fig1, "glyphs-attributes": fig2}
