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
# # 2-D sampling trajectories
#
# [Open this notebook in Colab](https://colab.research.google.com/github/difflearn/difflearn/blob/main/docs/demos/trajectories-2d.ipynb)
# · runs on a CPU in seconds · every claim below is an `assert` that ran when this page was built
#
# In two dimensions a sample is a point and a sampler's work is a path: start at
# Gaussian noise $x_T$, end near the data. This notebook draws those paths for several
# samplers on a small MLP denoiser trained on a checkerboard (shipped with difflearn as
# `toy2d-mlp`), then measures each sampler's error on a Gaussian mixture, where the
# exact noise prediction and the exact end point of the probability-flow ODE are known.

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

import difflearn
from difflearn import NoiseScheduleVP, model_wrapper, pretrained, sample
from difflearn.data import checkerboard, mixture_2d
from difflearn.demo import demo_env

# quick mode in the tests (DIFFLEARN_QUICK=1), the device, and a caption naming both
ENV = demo_env()
QUICK, device, CAPTION, caption = ENV.quick, ENV.device, ENV.caption, ENV.stamp
print(CAPTION)


# %% [markdown]
# ## The model
#
# `pretrained.load` returns the network, the noise schedule it was trained with and its
# model card. The network predicts the noise $\hat\varepsilon_\theta(x_t, n)$ at the
# discrete training step $n$, the convention of DDPM and guided-diffusion, so
# `model_wrapper` turns it into the continuous-time noise predictor every sampler takes.

# %%
model, ns, card = pretrained.load("toy2d-mlp")
model = model.to(device)
for key in ["data", "command", "steps", "device", "wall_time_s", "final_loss"]:
    print(f"{key:12s} {card[key]}")
model_fn = model_wrapper(model, ns, model_type="noise")

n_points = 400 if QUICK else 2000
gen = torch.Generator().manual_seed(0)
x_T = torch.randn(n_points, 2, generator=gen).to(device)
data = checkerboard(4000, generator=gen).float()


def on_dark_squares(x):
    """Fraction of points on the checkerboard's dark squares (the data's support)."""
    x = x.cpu()
    cell = torch.floor(x + 2.0).long()
    return float(
        (((cell[:, 0] + cell[:, 1]) % 2 == 0) & (x.abs() <= 2).all(1)).float().mean()
    )


with torch.no_grad():
    x_0 = sample(model_fn, x_T, ns, method="unipc", steps=20, skip_type="logSNR")
frac = on_dark_squares(x_0)
print(
    f"UniPC, 20 steps: {frac:.1%} of the samples lie on the dark squares "
    "(the data: 100%, noise: 50%)"
)
assert frac > 0.8

# %% [markdown]
# ## Recording the paths
#
# Every sampler of `difflearn.samplers` calls `callback` once per step with the state
# $x_{t_i}$ and the model's estimate of the clean point
# $\hat x_0 = (x_{t_i} - \sigma_{t_i}\hat\varepsilon)/\alpha_{t_i}$; the DPM-Solver class keeps
# the official API and returns the states after each step with `return_intermediate=True`.


# %%
def trajectory(method, steps, x, **kwargs):
    """The states (steps + 1, B, 2) a sampler visits from x (at t = T) to its result."""
    if method in ("dpmsolver", "dpmsolver++"):
        x_end, states = sample(
            model_fn,
            x,
            ns,
            method=method,
            steps=steps,
            return_intermediate=True,
            **kwargs,
        )
        return torch.stack([x, *states]).cpu()
    states = []
    x_end = sample(
        model_fn,
        x,
        ns,
        method=method,
        steps=steps,
        callback=lambda d: states.append(d["x_t"]),
        **kwargs,
    )
    return torch.stack([*states, x_end]).cpu()


STEPS = 10
SAMPLERS = {  # label: (method, keyword arguments)
    "DDIM": ("ddim", {}),
    "DPM-Solver-2 (singlestep)": (
        "dpmsolver",
        dict(order=2, solver_method="singlestep"),
    ),
    "DPM-Solver++(2M)": ("dpmsolver++", dict(order=2)),
    "UniPC-2": ("unipc", dict(order=2)),
    "Heun (2 calls per step)": ("heun", {}),
    "DDPM (stochastic)": (
        "ddpm",
        dict(generator=torch.Generator(device).manual_seed(1)),
    ),
}
n_show = 60 if QUICK else 150
paths = {}
with torch.no_grad():
    for label, (method, kw) in SAMPLERS.items():
        t0 = time.perf_counter()
        paths[label] = trajectory(method, STEPS, x_T[:n_show], skip_type="logSNR", **kw)
        print(f"{label:28s} {time.perf_counter() - t0:.3f} s")

fig, axes = plt.subplots(2, 3, figsize=(12, 8), sharex=True, sharey=True)
for ax, (label, path) in zip(axes.flat, paths.items()):
    ax.scatter(data[:, 0], data[:, 1], s=1, color="0.85", zorder=0)
    for k in range(path.shape[1]):
        ax.plot(path[:, k, 0], path[:, k, 1], lw=0.6, alpha=0.6, color="tab:blue")
    ax.scatter(path[0, :, 0], path[0, :, 1], s=4, color="tab:gray", label="$x_T$")
    ax.scatter(path[-1, :, 0], path[-1, :, 1], s=6, color="tab:red", label="result")
    ax.set_title(f"{label}, {STEPS} steps")
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
    ax.set_aspect("equal")
axes[0, 0].legend(loc="lower left")
fig.suptitle("Sampling paths on the checkerboard model (grey: training data)")
caption(fig)
plt.show()

# %% [markdown]
# The deterministic solvers (everything but DDPM) follow nearly the same smooth curves:
# they integrate the same probability-flow ODE and differ only in their discretisation
# error. DDPM adds fresh noise at every step, so its paths jitter and end elsewhere.

# %%
ends = {label: path[-1] for label, path in paths.items()}
ode_spread = max(
    float((ends[a] - ends["UniPC-2"]).norm(dim=1).mean())
    for a in ["DDIM", "DPM-Solver++(2M)", "Heun (2 calls per step)"]
)
sde_gap = float((ends["DDPM (stochastic)"] - ends["UniPC-2"]).norm(dim=1).mean())
print(
    f"mean distance between ODE solvers' end points: <= {ode_spread:.3f}; "
    f"DDPM vs UniPC: {sde_gap:.3f}"
)
assert ode_spread < sde_gap

# %% [markdown]
# ## The time grid matters
#
# `skip_type` picks the $N + 1$ times. With the discrete linear schedule, a grid uniform
# in $t$ spends few steps where $\lambda_t = \log(\alpha_t/\sigma_t)$ changes fastest (near
# the data), and the multistep DPM-Solver++ pays for it; a grid uniform in $\lambda$
# (`logSNR`, the recommendation of Lu et al. for such schedules) does not. We compare each
# result with a 1000-step DDIM solve from the same $x_T$.

# %%
with torch.no_grad():
    reference = sample(model_fn, x_T, ns, method="ddim", steps=200 if QUICK else 1000)
    grid_error = {}
    for skip in ["time_uniform", "logSNR", "time_quadratic"]:
        x = sample(
            model_fn, x_T, ns, method="dpmsolver++", steps=10, order=3, skip_type=skip
        )
        grid_error[skip] = float((x - reference).norm(dim=1).mean())
        print(
            f"DPM-Solver++(3M), 10 steps, {skip:14s}: "
            f"mean distance to the reference {grid_error[skip]:.3f}"
        )
assert grid_error["logSNR"] < grid_error["time_uniform"] / 3

# %% [markdown]
# ## Exact errors on a Gaussian mixture
#
# For a mixture of Gaussians the noisy marginals are mixtures too, so the noise prediction
# $\varepsilon^*(x_t, t) = -\sigma_t \nabla_x \log p_t(x_t)$ is exact
# (`difflearn.data.GaussianMixture`), and the probability-flow ODE can be solved to
# $10^{-10}$ with scipy. What remains of a sampler's error is its discretisation error alone.
# We plot it against the number of model evaluations (NFE).

# %%
gm = mixture_2d("grid9")
ns_c = NoiseScheduleVP("linear")
exact_fn = model_wrapper(gm.noise_fn(ns_c), ns_c, model_type="noise")
x_T_gm = torch.randn(64 if QUICK else 256, 2, generator=gen, dtype=torch.float64)
t_end = 1e-3
x_exact = gm.pf_ode_solve(x_T_gm, 1.0, t_end, ns_c)

SOLVERS = {  # label: (method, calls per step, keyword arguments)
    "DDIM": ("ddim", 1, {}),
    "Heun": ("heun", 2, {}),
    "DPM-Solver-2": ("dpmsolver", 1, dict(order=2, solver_method="singlestep")),
    "DPM-Solver++(2M)": ("dpmsolver++", 1, dict(order=2)),
    "DPM-Solver++(3M)": ("dpmsolver++", 1, dict(order=3)),
    "UniPC-3": ("unipc", 1, dict(order=3)),
}
NFES = [10, 20, 40] if QUICK else [6, 10, 20, 40, 60]
errors = {}
for label, (method, calls, kw) in SOLVERS.items():
    errors[label] = []
    for nfe in NFES:
        x = sample(
            exact_fn,
            x_T_gm,
            ns_c,
            method=method,
            steps=nfe // calls,
            skip_type="logSNR",
            t_end=t_end,
            **kw,
        )
        errors[label].append(float((x - x_exact).norm(dim=1).mean()))

fig, ax = plt.subplots(figsize=(6.5, 4.5))
for label, errs in errors.items():
    ax.loglog(NFES, errs, "o-", label=label)
ax.set_xlabel("model evaluations (NFE)")
ax.set_ylabel("mean distance to the exact ODE solution")
ax.set_title("Discretisation error on the 3x3 Gaussian mixture (exact model)")
ax.legend(fontsize=8)
caption(fig)
plt.show()
for label, errs in errors.items():
    print(f"{label:18s} " + "  ".join(f"NFE {n}: {e:.2e}" for n, e in zip(NFES, errs)))

# %% [markdown]
# Every solver converges to the exact solution, and the third-order multistep solvers
# reach a given error with far fewer evaluations than DDIM (first order) or Heun (second
# order, but two evaluations per step).

# %%
for label, errs in errors.items():
    assert errs[-1] < errs[0] / 4, (label, errs)
i40 = NFES.index(40)
assert errors["DPM-Solver++(3M)"][i40] < errors["DDIM"][i40] / 10
assert errors["UniPC-3"][i40] < errors["DDIM"][i40] / 10

# %% [markdown]
# ## Run it on a released guided-diffusion checkpoint
#
# The callback works the same way on an image model. Download a checkpoint of
# [guided-diffusion](https://github.com/openai/guided-diffusion) (for example
# `256x256_diffusion_uncond.pt`, 2.1 GB — the reader's step; nothing here downloads) and set
# `CHECKPOINT` to its path. Until then the cell below builds the same architecture at a
# tiny width with random weights, saves it as a `.pt` file and loads it through exactly the
# same path, so the loading code on this page is executed, not just shown.

# %%
import tempfile  # noqa: E402

from difflearn import create_model, load_checkpoint  # noqa: E402
from difflearn.models import eps_only  # noqa: E402

PRESET = "256x256_diffusion_uncond"
CHECKPOINT = None  # e.g. "256x256_diffusion_uncond.pt"
# stand-in only: the released model has width 256
TINY = dict(model_channels=32, num_res_blocks=1, num_head_channels=32)
if CHECKPOINT is None:
    CHECKPOINT = os.path.join(tempfile.mkdtemp(), f"{PRESET}.pt")
    torch.save(create_model(PRESET, **TINY).state_dict(), CHECKPOINT)
    overrides, size = TINY, 32
else:
    overrides, size = {}, 256

unet = load_checkpoint(CHECKPOINT, preset=PRESET, device=device, **overrides)
unet_ns = NoiseScheduleVP("discrete", betas=difflearn.beta_schedule("linear", 1000))
# drop the learned variance
unet_fn = model_wrapper(eps_only(unet, channels=3), unet_ns, model_type="noise")

x0_preds = []
with torch.no_grad():
    img = sample(
        unet_fn,
        torch.randn(1, 3, size, size, device=device),
        unet_ns,
        method="ddim",
        steps=6,
        callback=lambda d: x0_preds.append(d["x0_pred"][0]),
    )
print(
    f"{len(x0_preds)} x0 estimates of shape {tuple(x0_preds[0].shape)}, "
    f"result {tuple(img.shape)}"
)
assert len(x0_preds) == 6 and torch.isfinite(img).all()

fig, axes = plt.subplots(1, 6, figsize=(12, 2.4))
for ax, x0 in zip(axes, x0_preds):
    ax.imshow(((x0.clamp(-1, 1) + 1) / 2).permute(1, 2, 0).cpu().numpy())
    ax.axis("off")
fig.suptitle(
    "x0 estimates along a DDIM path (random tiny weights: noise, as it should be)"
)
caption(fig)
plt.show()

# %% [markdown]
# With the real checkpoint the same cell shows the image emerging from coarse to fine.
#
# Further reading: DDIM [@song2021denoising], DPM-Solver [@lu2022dpmsolver], DPM-Solver++
# [@lu2022dpmsolverpp], UniPC [@zhao2023unipc], EDM's Heun sampler [@karras2022elucidating].
