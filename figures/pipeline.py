"""Figures for the chapter "The pipeline, end to end"."""

import textwrap

import matplotlib.pyplot as plt

from figures._style import apply_style

DEPENDS = ["src/difflearn/weights/glyphs-unet.safetensors", "src/difflearn/weights/glyphs-dit.safetensors",
           "src/difflearn/weights/glyphs-vae.safetensors", "src/difflearn/pipeline.py"]
SEED = 0
FIGURES = {
    "pipeline-prompts": {
        "alt": "Two blocks of small glyph images, one per shipped model (glyphs-unet above, glyphs-dit "
               "below). Each block has six columns, one per prompt printed above it (for example 'a cyan "
               "7' or 'a small magenta 2, rotated right, on a light background'), and four rows of "
               "samples from different seeds. The samples show the asked-for attributes and vary in "
               "what the prompt leaves out.",
        "caption": "text_to_image with the two shipped pipelines, 20 steps, guidance scale 3, four seeds per "
                   "prompt. Prompts that leave out a phrase (the first two) get varied sizes, rotations or "
                   "backgrounds.",
    },
}
PROMPTS = ["a cyan 7", "a red 2, on a light background", "a large blue 4, upright, on a dark background",
           "a small magenta 2, rotated right, on a light background",
           "a large yellow 6, rotated left, on a dark background", "a small green 0, upright, on a dark background"]


def render(quick: bool, device: str) -> dict:
    from difflearn import pretrained
    from difflearn.pipeline import text_to_image

    apply_style()
    vae = pretrained.load("glyphs-vae")[0]
    fig, axes = plt.subplots(9, 6, figsize=(10, 11.5), gridspec_kw={"height_ratios": [1] * 4 + [0.35] + [1] * 4})
    for block, name in enumerate(("glyphs-unet", "glyphs-dit")):
        model, schedule, _ = pretrained.load(name)
        x = text_to_image([p for p in PROMPTS for _ in range(4)], vae, model, schedule, steps=20,
                          guidance_scale=3.0, seed=SEED)
        for c in range(6):
            for r in range(4):
                ax = axes[5 * block + r, c]
                ax.imshow(((x[4 * c + r] + 1) / 2).permute(1, 2, 0).numpy(), interpolation="nearest")
                if r == 0:
                    ax.set_title(textwrap.fill(PROMPTS[c], 16), fontsize=8.5)
        axes[5 * block, 0].set_ylabel(name, fontsize=11)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        ax.spines[:].set_visible(False)  # images need no frame
    for ax in axes[4]:
        ax.axis("off")
    return {"pipeline-prompts": fig}
