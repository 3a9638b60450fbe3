# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Text to image with a miniature Stable Diffusion
#
# [Open this notebook in Colab](https://colab.research.google.com/github/difflearn/difflearn/blob/main/docs/demos/text-to-image.ipynb)
# · runs on a CPU in seconds · every claim below is an `assert` that ran when this page was built
#
# Two text-to-image models ship with difflearn, both trained on a laptop CPU on the
# [glyph images](../modern/glyphs.md): `glyphs-unet`, a text-conditioned UNet that predicts noise on
# Stable Diffusion's schedule, and `glyphs-dit`, a DiT trained as a rectified flow like SD3. Both
# work in the 8x8x4 latent space of `glyphs-vae`. Type a caption, and watch the samples follow
# it; then measure how often they do, as the guidance scale grows, with `glyphs-reader`, a
# classifier that never saw a generated image.

# %%
import subprocess
import sys

# on Colab only: install difflearn (the site build and the tests skip this)
if "google.colab" in sys.modules:
    PACKAGE = "git+https://github.com/difflearn/difflearn"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", PACKAGE], check=True)

import matplotlib.pyplot as plt
import torch

from difflearn import pretrained
from difflearn.data import ATTRIBUTES, VOCAB, load_glyphs, make_caption, parse_caption
from difflearn.demo import demo_env
from difflearn.glyph_metrics import attribute_accuracy
from difflearn.pipeline import text_to_image

# quick mode in the tests (DIFFLEARN_QUICK=1), the device, and a caption naming both
ENV = demo_env()
QUICK, device, CAPTION, caption = ENV.quick, ENV.device, ENV.caption, ENV.stamp
print(CAPTION)

vae = pretrained.load("glyphs-vae", device=device)[0]
reader = pretrained.load("glyphs-reader", device=device)[0]
models = {
    name: pretrained.load(name, device=device)[:2]
    for name in ("glyphs-unet", "glyphs-dit")
}
print("vocabulary:", " ".join(VOCAB[2:]))


def show(images, ax, ncol):
    """Tile (B, 3, 32, 32) images in [-1, 1] into one picture."""
    # (B, 32, 32, 3)
    x = ((images.detach().cpu().clamp(-1, 1) + 1) / 2).permute(0, 2, 3, 1)
    rows = [torch.cat(list(x[i : i + ncol]), dim=1) for i in range(0, len(x), ncol)]
    ax.imshow(torch.cat(rows, dim=0).numpy(), interpolation="nearest")
    ax.axis("off")


# %% [markdown]
# ## Type a prompt
#
# Change `PROMPT` to any caption of the grammar `a [size] colour digit[, rotation][, on a
# background background]`. Leave out a phrase and the model chooses that attribute itself.

# %%
PROMPT = "a large red 3, rotated left, on a dark background"
n = 8
fig, axes = plt.subplots(2, 1, figsize=(9, 3.2))
samples = {}
for ax, (name, (model, schedule)) in zip(axes, models.items()):
    samples[name] = text_to_image(
        [PROMPT] * n, vae, model, schedule, steps=20, guidance_scale=3.0, seed=1
    )
    show(samples[name], ax, n)
    ax.set_title(f"{name}: {PROMPT!r}", fontsize=10)
fig.suptitle("eight seeds per model, 20 steps, guidance scale 3")
caption(fig)
plt.show()

asked = parse_caption(PROMPT)
for name, x in samples.items():
    acc = attribute_accuracy(
        x, {k: torch.full((n,), v) for k, v in asked.items()}, reader
    )
    print(f"{name}: the reader finds {acc}")
    assert acc["colour"] >= 0.75 and acc["background"] >= 0.75  # chance: 1/6 and 1/2

# %% [markdown]
# Now try `small` instead of `large`. A small digit is 12 to 15 pixels tall, three or four
# cells of the 8x8 latent, and both models draw its shape much less reliably: colour, size
# and background stay right, the digit often does not.

# %%
for name, (model, schedule) in models.items():
    read = {}
    for size in ("small", "large"):
        prompt = f"a {size} red 3, rotated left, on a dark background"
        x = text_to_image(
            [prompt] * 16, vae, model, schedule, steps=20, guidance_scale=3.0, seed=1
        )
        asked = {k: torch.full((16,), v) for k, v in parse_caption(prompt).items()}
        read[size] = attribute_accuracy(x, asked, reader)["glyph"]
    print(
        f"{name}: the digit is read as a 3 in {read['small']:.2f} of small and "
        f"{read['large']:.2f} of large samples"
    )
    assert read["large"] > read["small"]

# %% [markdown]
# ## One word at a time
#
# Keep the seed and change one word of the caption: each row changes the colour word, the
# digit, or the rotation, and the samples follow.

# %%
rows = {
    "colour": [
        f"a large {c} 5, upright, on a dark background" for c in ATTRIBUTES["colour"]
    ],
    "digit": [f"a large cyan {d}, upright, on a dark background" for d in "012345"],
    "rotation": [
        f"a large yellow 7{r}, on a light background"
        for r in (", rotated left", ", upright", ", rotated right")
    ]
    * 2,
}
model, schedule = models["glyphs-dit"]
fig, axes = plt.subplots(3, 1, figsize=(7, 4.2))
for ax, (what, prompts) in zip(axes, rows.items()):
    x = text_to_image(
        prompts, vae, model, schedule, steps=20, guidance_scale=3.0, seed=2
    )
    show(x, ax, len(prompts))
    ax.set_title(f"glyphs-dit: changing the {what}", fontsize=10)
caption(fig)
plt.show()

# %% [markdown]
# ## Caption accuracy vs guidance scale
#
# For the complete captions of test images we sample at several guidance scales $s$ (0: the
# unconditional model, 1: the plain conditional model) and ask the reader which of the five
# attributes it sees. The full measurement on 1,000 prompts, with the glyph KID, is in the
# [text-conditioning chapter](../modern/text-conditioning.md); here it runs on fewer.

# %%
n_prompts = 40 if QUICK else 300
scales = [0.0, 1.0, 3.0] if QUICK else [0.0, 1.0, 2.0, 3.0, 5.0, 7.5]
test = load_glyphs("test", n=n_prompts)
prompts = [
    make_caption({k: int(v[i]) for k, v in test.attributes.items()})
    for i in range(n_prompts)
]
accuracy = {name: {} for name in models}
for name, (model, schedule) in models.items():
    for s in scales:
        x = text_to_image(
            prompts,
            vae,
            model,
            schedule,
            steps=10 if QUICK else 20,
            guidance_scale=s,
            seed=3,
        )
        accuracy[name][s] = attribute_accuracy(x, test.attributes, reader)
        print(f"{name}, s = {s:g}: {accuracy[name][s]}")

fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
for ax, (name, acc) in zip(axes, accuracy.items()):
    for attribute in [*ATTRIBUTES, "all"]:
        ax.plot(
            scales,
            [acc[s][attribute] for s in scales],
            marker="o",
            label=attribute,
            lw=2.5 if attribute == "all" else 1.2,
        )
    ax.set_xlabel("guidance scale s")
    ax.set_title(name)
axes[0].set_ylabel("fraction read as asked")
axes[1].legend(fontsize=9)
caption(fig)
plt.show()

# %%
for acc in accuracy.values():
    assert acc[0.0]["colour"] < 0.4  # unconditional: chance is 1/6
    assert acc[3.0]["colour"] > 0.9  # guided: the colour word is followed
    assert acc[3.0]["all"] > acc[0.0]["all"] + 0.2

# %% [markdown]
# ## Words the model does not know
#
# The vocabulary is closed. A caption with other words is an error that names them and lists
# the vocabulary, rather than a silent guess:

# %%
try:
    text_to_image("a purple 3 on a checkered background", vae, *models["glyphs-dit"])
except ValueError as err:
    print(err)
    assert "['checkered', 'purple']" in str(err)

# %% [markdown]
# ## Run it on a released Stable Diffusion VAE checkpoint
#
# `AutoencoderKL` has diffusers' layer names, so the autoencoder of a released Stable Diffusion
# model loads into it. Download `diffusion_pytorch_model.safetensors` of the `vae` folder of an
# SD 1.x or 2.x release (or of `stabilityai/sd-vae-ft-mse`; the reader's step, nothing here
# downloads) and set the path; SD's autoencoder has widths 128, 256, 512, 512, two residual
# blocks per resolution and 32 groups, and `scaling_factor` 0.18215. Until then the cell builds
# the same architecture at a tiny width with random weights, saves it as safetensors and runs
# the same code on a 64x64 image.

# %%
import os  # noqa: E402
import tempfile  # noqa: E402

from safetensors.torch import load_file, save_file  # noqa: E402

from difflearn.models import AutoencoderKL  # noqa: E402

SD_VAE = None  # e.g. "sd-vae-ft-mse/diffusion_pytorch_model.safetensors"
config = dict(
    block_out_channels=(128, 256, 512, 512),
    layers_per_block=2,
    norm_num_groups=32,
    sample_size=512,
    scaling_factor=0.18215,
)
if SD_VAE is None:  # stand-in: the architecture at a tiny width, random weights
    config.update(block_out_channels=(32, 32, 64, 64), sample_size=64)
    SD_VAE = os.path.join(tempfile.mkdtemp(), "diffusion_pytorch_model.safetensors")
    save_file(AutoencoderKL(**config).state_dict(), SD_VAE)
sd_vae = AutoencoderKL(**config).eval().to(device)
sd_vae.load_state_dict(load_file(SD_VAE), strict=True)
size = config["sample_size"]
image = torch.rand(1, 3, size, size, device=device) * 2 - 1
with torch.no_grad():
    # SD's latent: (1, 4, size / 8, size / 8)
    z = sd_vae.encode(image).mean * sd_vae.scaling_factor
    back = sd_vae.decode(z / sd_vae.scaling_factor)
print(tuple(z.shape), tuple(back.shape))
assert z.shape == (1, 4, size // 8, size // 8) and back.shape == image.shape

# %% [markdown]
# Further reading: latent diffusion [@rombach2022highresolution], DiT [@peebles2023scalable],
# SD3 [@esser2024scaling], classifier-free guidance [@ho2022classifierfree].
