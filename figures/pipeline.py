"""Figures for the chapter "The pipeline, end to end"."""


import matplotlib.pyplot as plt

from figures._style import apply_style

DEPENDS = ["src/difflearn/weights/glyphs-unet.safetensors", "src/difflearn/weights/glyphs-dit.safetensors",
           "src/difflearn/weights/glyphs-vae.safetensors", "src/difflearn/pipeline.py"]
SEED = 0
FIGURES = {
    "pipeline-prompts": {
        "alt": "Two blocks of small glyph images, one per shipped model (glyphs-unet on the left, glyphs-dit "
               "on the right). Each of the six rows is one prompt, printed on the left (for example 'a cyan "
               "7' or 'a small magenta 2, rotated right, on a light background'), with four samples from "
               "different seeds in each block. The samples show the asked-for attributes and vary in "
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
    samples = {}
    for name in ("glyphs-unet", "glyphs-dit"):
        model, schedule, _ = pretrained.load(name)
        samples[name] = text_to_image([p for p in PROMPTS for _ in range(4)], vae, model, schedule, steps=20,
                                      guidance_scale=3.0, seed=SEED)
    # one row per prompt (printed on the left), four seeds per model side by side; on a phone the
    # two blocks stacked, each with its prompts
    fig, axes = plt.subplots(6, 9, figsize=(10, 6.6), gridspec_kw={"width_ratios": [1] * 4 + [0.3] + [1] * 4})
    tall, taxes = plt.subplots(13, 4, figsize=(5.6, 13.5), gridspec_kw={"height_ratios": [1] * 6 + [0.3] + [1] * 6})
    for block, (name, x) in enumerate(samples.items()):
        for c in range(6):
            for r in range(4):
                img = ((x[4 * c + r] + 1) / 2).permute(1, 2, 0).numpy()
                axes[c, 5 * block + r].imshow(img, interpolation="nearest")
                taxes[7 * block + c, r].imshow(img, interpolation="nearest")
        axes[0, 5 * block].set_title(name, fontsize=11, loc="left")
        taxes[7 * block, 0].set_title(name, fontsize=11, loc="left")
    for c, prompt in enumerate(PROMPTS):  # a line per attribute
        for ax in (axes[c, 0], taxes[c, 0], taxes[7 + c, 0]):
            ax.set_ylabel("\n".join(prompt.split(", ")), fontsize=9, rotation=0, ha="right", va="center")
    for ax in [*axes.flat, *taxes.flat]:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        ax.spines[:].set_visible(False)  # images need no frame
    for ax in [*axes[:, 4], *taxes[6]]:
        ax.axis("off")
    return {"pipeline-prompts": fig, "pipeline-prompts-portrait": tall}
