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
# # Few-step generation on the digits
#
# [Open this notebook in Colab](https://colab.research.google.com/github/difflearn/difflearn/blob/main/docs/demos/few-step.ipynb)
# · runs on a CPU in seconds · every claim below is an `assert` that ran when this page was built
#
# The package ships three few-step models distilled from `digits-uncond` on a CPU: a
# two-step student of progressive distillation (`digits-pd-2`), a consistency-distilled
# model (`digits-cd`) and a reflowed rectified flow (`digits-rf2`). This notebook samples
# each at one and two model calls from the same noise and compares them with the teacher
# sampled by a good ODE solver at the same number of calls. It measures quality
# (digits-FID), diversity (which digits come out) and time. The
# [Few-step generation](../fewstep/index.md) chapter has the full benchmark.

# %%
import os
import subprocess
import sys
import time

# on Colab only: install difflearn (the site build and the tests skip this)
if "google.colab" in sys.modules:
    PACKAGE = "git+https://github.com/difflearn/difflearn"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", PACKAGE], check=True)

import matplotlib.pyplot as plt
import torch

from difflearn import model_wrapper, pretrained, sample
from difflearn.data import load_digits
from difflearn.demo import demo_env, show_grid
from difflearn.fewstep import (
    consistency_model_fn,
    consistency_sampling,
    consistency_timesteps,
    student_timesteps,
    velocity_fn,
)
from difflearn.metrics import digits_fid
from difflearn.samplers import ddim, flow_euler, flow_timesteps

# quick mode in the tests (DIFFLEARN_QUICK=1), the device, and a caption naming both
ENV = demo_env()
QUICK, device, CAPTION, caption = ENV.quick, ENV.device, ENV.caption, ENV.stamp
print(CAPTION)

# %% [markdown]
# ## The models
#
# Each shipped model has a card: how it was trained, for how long, on what.

# %%
teacher, ns, _ = pretrained.load("digits-uncond", device=device)
pd, _, pd_card = pretrained.load("digits-pd-2", device=device)
cd, _, cd_card = pretrained.load("digits-cd", device=device)
rf2, _, rf_card = pretrained.load("digits-rf2", device=device)
for card in (pd_card, cd_card, rf_card):
    print(
        f"{card['name']:12s} {card['method']}: {card['steps']} steps, "
        f"{card['cpu_s']:.0f} s CPU"
    )

samplers = {
    "teacher, UniPC": lambda x, n: sample(
        model_wrapper(teacher, ns),
        x,
        ns,
        method="unipc",
        steps=n,
        skip_type="time_uniform",
    ),
    "PD student": lambda x, n: ddim(
        model_wrapper(pd, ns, model_type="v"), x, ns, student_timesteps(ns, n)
    ),
    "consistency": lambda x, n: consistency_sampling(
        consistency_model_fn(
            model_wrapper(cd, ns, model_type="v"), ns, cd_card["sigma_min"]
        ),
        x,
        ns,
        consistency_timesteps(ns, n),
        generator=torch.Generator(device).manual_seed(1),
    ),
    "reflow, Euler": lambda x, n: flow_euler(velocity_fn(rf2), x, flow_timesteps(n)),
}

# %% [markdown]
# ## One and two calls, same noise
#
# The PD student was distilled for exactly two steps, so it appears only in that column.
# The other models sample with either number of calls.

# %%
n = 200 if QUICK else 899
x_T = torch.randn(
    n, 1, 8, 8, device=device, generator=torch.Generator(device).manual_seed(0)
)
real, labels = load_digits(8)
features = pretrained.load("digits-features", device=device)[0]
results = {}
with torch.no_grad():
    for calls in (1, 2):
        for name, run in samplers.items():
            if name == "PD student" and calls != 2:
                continue
            start = time.process_time()
            x = run(x_T, calls).cpu()
            seconds = time.process_time() - start
            hist = torch.bincount(
                features(x.clamp(-1, 1).to(device)).argmax(-1).cpu(), minlength=10
            )
            results[(name, calls)] = {
                "x": x,
                "fid": digits_fid(real, x),
                "s": seconds,
                "hist": hist,
            }
            print(
                f"{name:15s} {calls} call(s): "
                f"digits-FID {results[(name, calls)]['fid']:6.1f}, "
                f"{seconds:.2f} s CPU for {n} samples"
            )

fig, axes = plt.subplots(2, 4, figsize=(12, 6.4))
for ax, (name, calls) in zip(
    axes.flat, [(k, c) for c in (1, 2) for k in samplers if (k, c) in results]
):
    show_grid(results[(name, calls)]["x"][:36], ax, ncol=6)
    ax.set_title(
        f"{name}, {calls} call(s): FID {results[(name, calls)]['fid']:.0f}", fontsize=10
    )
for ax in axes.flat[len(results) :]:
    ax.axis("off")
caption(fig)
plt.show()

# %%
for calls in (1, 2):
    teacher_fid = results[("teacher, UniPC", calls)]["fid"]
    for name in ("consistency", "reflow, Euler") + (
        ("PD student",) if calls == 2 else ()
    ):
        assert results[(name, calls)]["fid"] < teacher_fid, (name, calls)

# %% [markdown]
# ## Diversity: which digits come out?
#
# A one-step model can buy quality by dropping the hard digits. The histogram of the
# classes that `digits-features` assigns to the samples shows whether it did. None of the
# few-step models does; the teacher at one or two calls produces grey blobs, which the
# classifier puts into a few classes.

# %%
fig, ax = plt.subplots(figsize=(10, 3.4))
width = 0.8 / (len(results) + 1)
real_hist = torch.bincount(features(real.to(device)).argmax(-1).cpu(), minlength=10)
bars = [("real digits", real_hist)] + [
    (f"{k} ({c})", r["hist"]) for (k, c), r in results.items()
]
for k, (label, hist) in enumerate(bars):
    ax.bar(torch.arange(10) + k * width, hist / hist.sum(), width, label=label)
ax.set(
    xticks=torch.arange(10) + 0.4,
    xticklabels=[str(d) for d in range(10)],
    xlabel="digit",
    ylabel="fraction of samples",
)
ax.legend(fontsize=8, ncols=3)
caption(fig)
plt.show()


def entropy(hist):
    p = hist.double() / hist.sum()
    return float(-(p[p > 0] * p[p > 0].log2()).sum())


for (name, calls), r in results.items():
    print(
        f"{name:15s} {calls}: class entropy {entropy(r['hist']):.2f} bits "
        "(uniform 3.32)"
    )
    if name != "teacher, UniPC":  # no few-step model collapses onto a few digits
        assert entropy(r["hist"]) > 2.5

# %% [markdown]
# ## Run it on a released guided-diffusion checkpoint
#
# Progressive distillation needs nothing but a teacher's noise prediction and a student of
# the same architecture. Download a checkpoint of
# [guided-diffusion](https://github.com/openai/guided-diffusion) (for example
# `64x64_diffusion.pt`; the reader's step, nothing here downloads) and set `CHECKPOINT`.
# Until then the cell builds the architecture at a tiny width with random weights, saves it
# and loads it through the same path, and runs a few steps of distillation from it: the
# loss of a one-step student that starts from the teacher's weights, read as a
# $v$-prediction.

# %%
import copy  # noqa: E402
import tempfile  # noqa: E402

from difflearn import (  # noqa: E402
    NoiseScheduleVP,
    beta_schedule,
    create_model,
    load_checkpoint,
)
from difflearn.fewstep import (
    distillation_grid,
    make_index_batch_fn,
    progressive_distillation_loss,
)  # noqa: E402
from difflearn.models import eps_only  # noqa: E402

PRESET = "64x64_diffusion"
CHECKPOINT = None  # e.g. "64x64_diffusion.pt"
TINY = dict(model_channels=32, num_res_blocks=1, num_head_channels=32)  # stand-in only
if CHECKPOINT is None:
    CHECKPOINT = os.path.join(tempfile.mkdtemp(), f"{PRESET}.pt")
    torch.save(create_model(PRESET, **TINY).state_dict(), CHECKPOINT)
    overrides, size = TINY, 16
else:
    overrides, size = {}, 64
unet = load_checkpoint(CHECKPOINT, preset=PRESET, device=device, **overrides)
# guided-diffusion's 64x64 schedule
unet_ns = NoiseScheduleVP("discrete", betas=beta_schedule("cosine", 4000))
labels = torch.zeros(4, dtype=torch.long, device=device)
teacher_fn = model_wrapper(
    eps_only(unet, channels=3), unet_ns, model_kwargs={"y": labels}
)
student = copy.deepcopy(unet).train().requires_grad_(True)
opt = torch.optim.AdamW(student.parameters(), lr=1e-4)
grid = distillation_grid(unet_ns, 1, teacher_substeps=2)
images = torch.rand(16, 3, size, size) * 2 - 1  # stand-in data: bring your own images
batch_fn = make_index_batch_fn(images)
losses = []
for step in range(2):
    batch = {
        k: v[:4].to(device)
        for k, v in batch_fn(torch.Generator().manual_seed(step), 4).items()
    }
    student_fn = model_wrapper(
        eps_only(student, channels=3),
        unet_ns,
        model_type="v",
        model_kwargs={"y": labels},
    )
    loss = progressive_distillation_loss(student_fn, teacher_fn, batch, grid, 2)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(float(loss))
print("distillation loss of the first steps:", [f"{v:.3f}" for v in losses])
assert all(torch.isfinite(torch.tensor(losses)))
