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
# # Editing digits
#
# [Open this notebook in Colab](https://colab.research.google.com/github/difflearn/difflearn/blob/main/docs/demos/editing.ipynb)
# · runs on a CPU in seconds · every claim below is an `assert` that ran when this page was built
#
# Three edits with the shipped digits models and no training: SDEdit turns a crude
# drawing into a digit, RePaint completes a digit from its top half, and DiffEdit turns a
# 3 into an 8 where the two differ and nowhere else. The chapters
# [SDEdit and inpainting](../editing/sdedit-inpainting.md) and
# [Inversion and DiffEdit](../editing/inversion-diffedit.md) explain the methods and measure them.

# %%
import os
import subprocess
import sys

# on Colab only: install difflearn (the site build and the tests skip this)
if "google.colab" in sys.modules:
    PACKAGE = "git+https://github.com/difflearn/difflearn"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", PACKAGE], check=True)

import matplotlib.pyplot as plt
import torch

from difflearn import model_wrapper, pretrained
from difflearn.data import load_digits
from difflearn.demo import demo_env, show_grid
from difflearn.editing import (
    border_gap,
    diffedit,
    diffedit_mask,
    repaint,
    sdedit,
    sdedit_timesteps,
)
from difflearn.metrics import classifier_accuracy
from difflearn.schedules import time_steps

# quick mode in the tests (DIFFLEARN_QUICK=1), the device, and a caption naming both
ENV = demo_env()
QUICK, device, CAPTION, caption = ENV.quick, ENV.device, ENV.caption, ENV.stamp
print(CAPTION)

uncond, ns, _ = pretrained.load("digits-uncond", device=device)
cond, _, card = pretrained.load("digits-cond", device=device)
NULL = card["null_class"]
eps = model_wrapper(uncond, ns)
real, labels = load_digits(8)

# %% [markdown]
# ## SDEdit: from a drawing to a digit
#
# Draw a "0" as a hollow square of ink on an 8x8 canvas. It is nothing like the round,
# grey-edged zeros of the data. Noise it to strength $s$ and let the model denoise: small
# $s$ keeps the square, larger $s$ turns it into a digit.

# %%
sketch = -torch.ones(1, 1, 8, 8)
sketch[..., 1:7, 2:6] = 1.0
sketch[..., 2:6, 3:5] = -1.0  # a hollow box: a crude zero
k = 8 if QUICK else 16
guides = sketch.expand(k, 1, 8, 8).to(device)
strengths = [0.05, 0.15, 0.3, 0.6]
features = pretrained.load("digits-features", device=device)[0]
fig, axes = plt.subplots(1, len(strengths) + 1, figsize=(12, 3))
show_grid(sketch, axes[0], ncol=1)
axes[0].set_title("the drawing")
zeros = {}
with torch.no_grad():
    for ax, s in zip(axes[1:], strengths):
        x = sdedit(
            eps,
            guides,
            ns,
            sdedit_timesteps(ns, s, max(2, round(50 * s))),
            generator=torch.Generator(device).manual_seed(0),
        )
        zeros[s] = classifier_accuracy(
            x.cpu(), torch.zeros(k, dtype=torch.long), features
        )
        show_grid(x[:8], ax, ncol=4)
        ax.set_title(f"s = {s}: {zeros[s]:.0%} read as 0", fontsize=10)
caption(fig)
plt.show()
assert zeros[0.05] >= 0.5  # a light touch keeps what the drawing is

# %% [markdown]
# ## Inpainting the bottom half
#
# Keep the top half of held-out digits and generate the rest, by replacement and with
# RePaint's resampling ($r = 5$). The border gap measures the jump across the mask's edge.
# The real digits have their own gap, since strokes cross the edge.

# %%
m = 12 if QUICK else 48
x0 = real[-m:].to(device)
mask = torch.zeros(8, 8, device=device)
mask[:4] = 1
steps = 20 if QUICK else 50
grid = time_steps(ns, "time_uniform", 1.0, 1e-3, steps, dtype=torch.float64)
with torch.no_grad():
    outs = {
        r: repaint(
            eps,
            x0,
            mask,
            ns,
            grid,
            resamplings=r,
            generator=torch.Generator(device).manual_seed(1),
        )
        for r in (1, 5)
    }
gaps = {r: float(border_gap(x, mask).mean()) for r, x in outs.items()}
print(
    f"border gap: real {float(border_gap(x0, mask).mean()):.3f}, "
    f"replacement {gaps[1]:.3f}, RePaint {gaps[5]:.3f}"
)
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
for ax, (title, x) in zip(
    axes, [("original", x0), ("replacement", outs[1]), ("RePaint r = 5", outs[5])]
):
    show_grid(x[:12], ax, ncol=6)
    ax.set_title(title)
caption(fig)
plt.show()
for x in outs.values():
    # the known half is the input, exactly
    assert torch.equal(x[..., :4, :], x0[..., :4, :])

# %% [markdown]
# ## DiffEdit: a 3 becomes an 8
#
# The mask comes from where the conditional model's noise predictions for "3" and "8"
# disagree. The edit DDIM-encodes the 3 halfway, decodes towards 8 with guidance, and keeps
# the encoding outside the mask.

# %%
threes = real[labels == 3][:6].to(device)
on = lambda y, w=1.0: model_wrapper(
    cond,
    ns,
    guidance_type="classifier-free",
    condition=y,  # noqa: E731
    unconditional_condition=torch.full_like(y, NULL),
    guidance_scale=w,
)
y3, y8 = torch.full((6,), 3, device=device), torch.full((6,), 8, device=device)
mask38, scores = diffedit_mask(
    on(y8), on(y3), threes, ns, generator=torch.Generator(device).manual_seed(2)
)
with torch.no_grad():
    eights = diffedit(
        on(y8, 3.0),
        on(torch.full_like(y3, NULL)),
        threes,
        mask38,
        ns,
        time_steps(ns, "time_uniform", 0.5, 1e-3, 25, dtype=torch.float64),
    )
outside = 1 - mask38
change = float(((eights - threes).abs() * outside).sum() / outside.sum())
print(
    f"mask area {mask38.mean():.2f}; mean change outside the mask {change:.3f}; "
    f"read as 8: {classifier_accuracy(eights.cpu(), torch.full((6,), 8), features):.0%}"
)
fig, axes = plt.subplots(1, 4, figsize=(12, 3.2))
for ax, (title, x) in zip(
    axes,
    [
        ("input", threes),
        ("score", scores * 2 - 1),
        ("mask", mask38 * 2 - 1),
        ("edited", eights),
    ],
):
    show_grid(x, ax, ncol=3)
    ax.set_title(title)
caption(fig)
plt.show()
# outside the mask the input comes back (up to the inversion's error)
assert change < 0.25

# %% [markdown]
# ## Run it on a released guided-diffusion checkpoint
#
# SDEdit works on any noise predictor. Download a checkpoint of
# [guided-diffusion](https://github.com/openai/guided-diffusion) (for example
# `256x256_diffusion_uncond.pt`, 2.1 GB; the reader's step, nothing here downloads) and set
# `CHECKPOINT` and `IMAGE`. Until then the cell builds the architecture at a tiny width
# with random weights, saves it, loads it through the same path and edits a synthetic
# picture, so the code is executed, not just shown.

# %%
import tempfile  # noqa: E402

from difflearn import (  # noqa: E402
    NoiseScheduleVP,
    beta_schedule,
    create_model,
    load_checkpoint,
)
from difflearn.models import eps_only  # noqa: E402

PRESET = "256x256_diffusion_uncond"
CHECKPOINT = None  # e.g. "256x256_diffusion_uncond.pt"
TINY = dict(model_channels=32, num_res_blocks=1, num_head_channels=32)  # stand-in only
if CHECKPOINT is None:
    CHECKPOINT = os.path.join(tempfile.mkdtemp(), f"{PRESET}.pt")
    torch.save(create_model(PRESET, **TINY).state_dict(), CHECKPOINT)
    overrides, size = TINY, 32
else:
    overrides, size = {}, 256
unet = load_checkpoint(CHECKPOINT, preset=PRESET, device=device, **overrides)
unet_ns = NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000))
unet_fn = model_wrapper(eps_only(unet, channels=3), unet_ns)
yy, xx = torch.meshgrid(
    torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij"
)
# a smooth stand-in: use your own image in [-1, 1]
IMAGE = torch.stack([xx, yy, -(xx * yy)])[None].to(device)
with torch.no_grad():
    edited = sdedit(
        unet_fn,
        IMAGE,
        unet_ns,
        sdedit_timesteps(unet_ns, 0.3, 6),
        generator=torch.Generator(device).manual_seed(3),
    )
print(
    f"edited {tuple(edited.shape)}; "
    f"RMS change {float((edited - IMAGE).pow(2).mean().sqrt()):.3f}"
)
assert edited.shape == IMAGE.shape and torch.isfinite(edited).all()
