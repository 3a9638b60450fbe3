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
# # Unconditional sampling with DPM-Solver
#
# [Open this notebook in Colab](https://colab.research.google.com/github/difflearn/difflearn/blob/main/docs/demos/unconditional.ipynb)
# · runs on a CPU in seconds · every claim below is an `assert` that ran when this page was built
#
# The first of the original DPM-Solver demos: take a DDPM-trained UNet (it predicts the
# noise $\hat\varepsilon_\theta(x_n, n)$ at discrete steps $n = 0, \dots, 999$), wrap it
# with `model_wrapper` into a continuous-time noise predictor, and solve the diffusion ODE
# with `DPM_Solver` in 10–20 model evaluations instead of DDPM's 1000. Here the UNet is
# difflearn's `digits-uncond`, an ADM UNet trained on the 8x8 digits, so everything runs
# on a laptop; the last section runs the same code on a released guided-diffusion checkpoint.

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

from difflearn import DPM_Solver, model_wrapper, pretrained, sample
from difflearn.demo import demo_env, show_grid

# quick mode in the tests (DIFFLEARN_QUICK=1), the device, and a caption naming both
ENV = demo_env()
QUICK, device, CAPTION, caption = ENV.quick, ENV.device, ENV.caption, ENV.stamp
print(CAPTION)


# %% [markdown]
# ## The model and the wrapper
#
# `pretrained.load` returns the network, its training schedule (the linear DDPM betas,
# $N = 1000$) and its model card. A discrete-time network labels time by the step $n$;
# `model_wrapper` calls it at $n = 1000\,(t - 1/N)$ for continuous $t$, the official convention.

# %%
unet, ns, card = pretrained.load("digits-uncond", device=device)
for key in ["data", "command", "steps", "device", "wall_time_s", "final_loss"]:
    print(f"{key:12s} {card[key]}")
model_fn = model_wrapper(unet, ns, model_type="noise")

# %% [markdown]
# ## DPM-Solver in 10 and 20 steps
#
# These are the calls of the original demo. `DPM_Solver(..., algorithm_type="dpmsolver")` is
# the noise-prediction solver of Lu et al. (2022a); `"dpmsolver++"` solves for the data
# prediction instead (Lu et al., 2022b), which is what guided sampling needs.

# %%
n = 16 if QUICK else 64
gen = torch.Generator(device).manual_seed(0)
SIZE = card["kwargs"]["image_size"]  # the shipped digits models work at the native 8x8
x_T = torch.randn(n, 1, SIZE, SIZE, device=device, generator=gen)
results = {}
for steps in [10, 20]:
    t0 = time.perf_counter()
    solver = DPM_Solver(model_fn, ns, algorithm_type="dpmsolver")
    results[f"DPM-Solver-3 (singlestep), {steps} NFE"] = solver.sample(
        x_T, steps=steps, order=3, skip_type="time_uniform", method="singlestep"
    )
    t1 = time.perf_counter()
    solver = DPM_Solver(model_fn, ns, algorithm_type="dpmsolver++")
    results[f"DPM-Solver++(3M), {steps} NFE"] = solver.sample(
        x_T, steps=steps, order=3, skip_type="logSNR", method="multistep"
    )
    t2 = time.perf_counter()
    print(
        f"{steps} steps, {n} images: DPM-Solver-3 {t1 - t0:.2f} s, "
        f"DPM-Solver++(3M) {t2 - t1:.2f} s"
    )

fig, axes = plt.subplots(1, len(results), figsize=(4 * len(results), 4.4))
for ax, (label, x) in zip(axes, results.items()):
    show_grid(x, ax, ncol=8)
    ax.set_title(label, fontsize=9)
fig.suptitle("digits-uncond: the same noise, four solver settings")
caption(fig)
plt.show()

# %% [markdown]
# The four grids start from the same noise $x_T$ and show (nearly) the same digits: they
# are all approximations of one map, the solution of the probability-flow ODE. A separate
# classifier trained on clean digits (`digits-features`) finds digits in them: most
# samples are classified with high confidence.

# %%
features_model, _, features_card = pretrained.load("digits-features", device=device)
x = results["DPM-Solver++(3M), 20 NFE"]
size = features_card["kwargs"]["image_size"]  # it may see digits at their native 8x8
with torch.no_grad():
    x_in = torch.nn.functional.interpolate(
        x.clamp(-1, 1), size=(size, size), mode="area"
    )
    confidence = torch.softmax(features_model(x_in), -1).max(-1).values
print(
    f"mean top-class probability of the samples: {float(confidence.mean()):.2f} "
    "(chance: 0.10)"
)
assert torch.isfinite(x).all()
assert float(confidence.mean()) > 0.6

# %% [markdown]
# ## All the samplers, at equal cost
#
# `difflearn.sample` runs any method of `difflearn.samplers.METHODS` with one signature. We
# give every sampler 10 model evaluations (Heun spends two per step, so it gets 5 steps)
# and compare each ODE sampler's result with a 100- to 200-step reference solution from the same
# noise: the distance is the sampler's discretisation error on a real network.

# %%
NFE = 10
SAMPLERS = {  # label: (method, steps, keyword arguments)
    "DDIM": ("ddim", NFE, {}),
    "Heun": ("heun", NFE // 2, {}),
    "DPM-Solver-2": ("dpmsolver", NFE, dict(order=2, solver_method="singlestep")),
    "DPM-Solver-3": ("dpmsolver", NFE, dict(order=3, solver_method="singlestep")),
    "DPM-Solver++(2M)": ("dpmsolver++", NFE, dict(order=2)),
    "DPM-Solver++(3M)": ("dpmsolver++", NFE, dict(order=3)),
    "UniPC-3": ("unipc", NFE, dict(order=3)),
    "DDPM (stochastic)": (
        "ddpm",
        NFE,
        dict(generator=torch.Generator(device).manual_seed(1)),
    ),
}
with torch.no_grad():
    reference = sample(
        model_fn,
        x_T,
        ns,
        method="dpmsolver++",
        steps=100 if QUICK else 200,
        order=2,
        skip_type="logSNR",
    )
out, error, seconds = {}, {}, {}
with torch.no_grad():
    for label, (method, steps, kw) in SAMPLERS.items():
        t0 = time.perf_counter()
        out[label] = sample(
            model_fn, x_T, ns, method=method, steps=steps, skip_type="logSNR", **kw
        )
        seconds[label] = time.perf_counter() - t0
        error[label] = float(
            (out[label] - reference).flatten(1).norm(dim=1).mean() / 16
        )
        print(
            f"{label:18s} {seconds[label]:.2f} s   "
            f"RMS distance to the reference {error[label]:.3f}"
        )

fig, axes = plt.subplots(2, 4, figsize=(13, 7))
for ax, (label, x) in zip(axes.flat, out.items()):
    show_grid(x[:16], ax, ncol=4)
    ax.set_title(f"{label}\n{NFE} NFE, RMS err {error[label]:.3f}", fontsize=9)
fig.suptitle("Every sampler with 10 model evaluations, from the same noise")
caption(fig)
plt.show()

# %% [markdown]
# At 10 evaluations the higher-order solvers (DPM-Solver++, UniPC) land closer to the
# exact ODE solution than first-order DDIM, and DDPM, which adds fresh noise at
# every step, ends somewhere else entirely (it samples the same distribution through
# a different, stochastic process).

# %%
assert error["DPM-Solver++(3M)"] < error["DDIM"]
assert error["UniPC-3"] < error["DDIM"]
assert error["DDPM (stochastic)"] > error["DDIM"]

# %% [markdown]
# ## Run it on a released guided-diffusion checkpoint
#
# The original demo ran on guided-diffusion's 256x256 unconditional ImageNet model.
# Download `256x256_diffusion_uncond.pt` from
# [guided-diffusion](https://github.com/openai/guided-diffusion) (2.1 GB, the reader's step;
# nothing here downloads) and set `CHECKPOINT`. Until then the cell builds the same
# architecture at a tiny width with random weights, saves it as a `.pt` file and runs the
# very same loading and sampling code on it. The released model also predicts its variance
# (`learn_sigma`: 6 output channels); `eps_only` keeps the 3 noise channels.

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
# stand-in only: the released model has width 256
TINY = dict(model_channels=32, num_res_blocks=1, num_head_channels=32)
if CHECKPOINT is None:
    CHECKPOINT = os.path.join(tempfile.mkdtemp(), f"{PRESET}.pt")
    torch.save(create_model(PRESET, **TINY).state_dict(), CHECKPOINT)
    overrides, size, steps = TINY, 32, 3
else:
    overrides, size, steps = {}, 256, 20

gd_unet = load_checkpoint(CHECKPOINT, preset=PRESET, device=device, **overrides)
gd_ns = NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000))
gd_fn = model_wrapper(eps_only(gd_unet, channels=3), gd_ns, model_type="noise")
with torch.no_grad():
    images = DPM_Solver(gd_fn, gd_ns, algorithm_type="dpmsolver").sample(
        torch.randn(2, 3, size, size, device=device),
        steps=steps,
        order=3,
        skip_type="time_uniform",
        method="singlestep",
    )
print(tuple(images.shape), "finite:", bool(torch.isfinite(images).all()))
assert images.shape == (2, 3, size, size) and torch.isfinite(images).all()

# %% [markdown]
# Further reading: DDPM [@ho2020denoising], DPM-Solver [@lu2022dpmsolver], DPM-Solver++
# [@lu2022dpmsolverpp], UniPC [@zhao2023unipc], the ADM UNet [@dhariwal2021diffusion].
