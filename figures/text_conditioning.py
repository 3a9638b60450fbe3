"""Figures for the chapter "Text conditioning"."""

import json
from pathlib import Path

import matplotlib.pyplot as plt

from figures._style import PALETTE, apply_style

ROOT = Path(__file__).resolve().parents[1]
DEPENDS = ["docs/modern/results/latent-experiments.json", "src/difflearn/weights/glyphs-unet.safetensors",
           "src/difflearn/weights/glyphs-vae.safetensors", "src/difflearn/pipeline.py"]
SEED = 0
FIGURES = {
    "text-guidance-accuracy": {
        "alt": "Two panels against the guidance scale from 0 to 9. Left: the fraction of samples whose "
               "glyph, colour, size, rotation and background the reader reads as asked, and of all five "
               "together, for glyphs-unet (solid) and glyphs-dit (dashed): near chance at scale 0, rising "
               "steeply to scale 1 to 3. Right: the glyph KID (times 1000) of the same samples for both models.",
        "caption": "Caption accuracy (read by glyphs-reader) and glyph KID against the guidance scale, 1,000 "
                   "complete test captions, 20 steps (DPM-Solver++(2M) for glyphs-unet, Euler for "
                   "glyphs-dit). Scale 0 is the unconditional model, 1 the conditional one.",
    },
    "text-guidance-samples": {
        "alt": "A grid of small glyph images: eight columns, one per caption printed above it, and one row "
               "per guidance scale 0, 1, 3 and 6. In the top row the images ignore the captions; from "
               "scale 1 on they have the asked-for size and background and, but for the purple-blue 7, "
               "colour. The large 3 and 0 take their shape by scale 3; the large 9 looks more like an 8, the "
               "small 7 stays a scatter of strokes and the magenta 8 a blob.",
        "caption": "glyphs-unet, the same initial noise in every row, 20 steps of DPM-Solver++(2M), at guidance "
                   "scales 0 (unconditional), 1, 3 and 6. Column titles: size and colour; digit and rotation; "
                   "background. The colours and backgrounds follow the captions from scale 1 on; the large digits "
                   "mostly take the asked-for shape, the small ones often do not.",
    },
}
ATTRS = ["glyph", "colour", "size", "rotation", "background", "all"]


def render(quick: bool, device: str) -> dict:
    from difflearn import pretrained
    from difflearn.pipeline import text_to_image

    apply_style()
    record = json.loads((ROOT / "docs/modern/results/latent-experiments.json").read_text())
    fig1, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    for style, (name, g) in zip(("-", "--"), record["guidance"].items()):
        scales = [r["scale"] for r in g["rows"]]
        for i, attr in enumerate(ATTRS):
            a1.plot(scales, [r["accuracy"][attr] for r in g["rows"]], style, marker="o", ms=3,
                    color=PALETTE[i], lw=2.4 if attr == "all" else 1.2, label=attr if style == "-" else None)
        a2.plot(scales, [1000 * r["kid"] for r in g["rows"]], style, marker="o", color=PALETTE[0], label=name)
    a1.set_xlabel("guidance scale s")
    a1.set_ylabel("fraction read as asked")
    a1.legend(fontsize=9, ncol=2, title="solid: glyphs-unet; dashed: glyphs-dit", title_fontsize=9)
    a2.set_xlabel("guidance scale s")
    a2.set_ylabel("glyph KID x 1000 (lower is better)")
    a2.legend()

    vae = pretrained.load("glyphs-vae")[0]
    model, ns, _ = pretrained.load("glyphs-unet")
    prompts = ["a large red 3, upright, on a dark background", "a small blue 7, rotated left, on a light background",
               "a large yellow 0, rotated right, on a dark background", "a small green 5, upright, on a light background",
               "a large magenta 8, rotated left, on a light background", "a small cyan 1, rotated right, on a dark background",
               "a large green 9, upright, on a light background", "a small red 4, rotated left, on a dark background"]
    scales = [0.0, 1.0, 3.0, 6.0]
    fig2, axes = plt.subplots(len(scales), 8, figsize=(10, 6.4))
    # on a phone: the first four prompts above the last four, each block with its scale labels
    tall, taxes = plt.subplots(2 * len(scales) + 1, 4, figsize=(5.6, 12.4),
                               gridspec_kw={"height_ratios": [1] * len(scales) + [0.25] + [1] * len(scales)})
    for r, s in enumerate(scales):
        x = text_to_image(prompts, vae, model, ns, steps=20, guidance_scale=s, seed=SEED)
        for c in range(8):
            img = ((x[c] + 1) / 2).permute(1, 2, 0).numpy()
            axes[r, c].imshow(img, interpolation="nearest")
            taxes[r + (len(scales) + 1) * (c // 4), c % 4].imshow(img, interpolation="nearest")
    for c, prompt in enumerate(prompts):
        # "a large red 3, upright, on a dark background" -> "large red\n3, upright\ndark"
        glyph, rotation, background = prompt.split(", ")
        _, size, colour, digit = glyph.split()
        title = f"{size} {colour}\n{digit}, {rotation.replace('rotated ', '')}\n{background.split()[2]}"
        axes[0, c].set_title(title, fontsize=9)
        taxes[(len(scales) + 1) * (c // 4), c % 4].set_title(title, fontsize=9)
    for r, s in enumerate(scales):
        for ax in (axes[r, 0], taxes[r, 0], taxes[len(scales) + 1 + r, 0]):
            ax.set_ylabel(f"s = {s:g}", fontsize=11)
    for ax in [*axes.flat, *taxes.flat]:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        ax.spines[:].set_visible(False)  # images need no frame
    for ax in taxes[len(scales)]:
        ax.axis("off")
    return {"text-guidance-accuracy": fig1, "text-guidance-samples": fig2, "text-guidance-samples-portrait": tall}
