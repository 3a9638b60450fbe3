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
# # Classifier-free guidance
#
# [Open this notebook in Colab](https://colab.research.google.com/github/difflearn/difflearn/blob/main/docs/demos/classifier-free-guidance.ipynb)
# · runs on a CPU in seconds · every claim below is an `assert` that ran when this page was built
#
# Classifier-free guidance (Ho & Salimans, 2022) needs no classifier: one network is
# trained both with labels and, a fraction of the time, with a "null" label $\varnothing$,
# so it predicts both $\varepsilon_\theta(x_t, y)$ and $\varepsilon_\theta(x_t, \varnothing)$.
# Sampling extrapolates from the unconditional towards the conditional prediction.
# Two conventions for the strength are in use, and they differ by one:
#
# $$\tilde\varepsilon = (1 + w)\,\varepsilon_\theta(x_t, y) - w\,\varepsilon_\theta(x_t, \varnothing)
# \qquad\text{(Ho \& Salimans, } w \ge 0\text{)}$$
#
# $$\tilde\varepsilon = \varepsilon_\theta(x_t, \varnothing) + s\,\big(\varepsilon_\theta(x_t, y) - \varepsilon_\theta(x_t, \varnothing)\big)
# \qquad\text{(DPM-Solver, diffusers, } s = w + 1\text{)}$$
#
# so $w = 0$ and $s = 1$ both mean "plain conditional model", and $s = 0$ is unconditional.
# `model_wrapper(..., guidance_type="classifier-free", guidance_scale=s)` uses $s$.

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

from difflearn import DPM_Solver, NoiseScheduleVP, model_wrapper, pretrained
from difflearn.data import mixture_2d
from difflearn.demo import demo_env
from difflearn.metrics import classifier_accuracy

# quick mode in the tests (DIFFLEARN_QUICK=1), the device, and a caption naming both
ENV = demo_env()
QUICK, device, CAPTION, caption = ENV.quick, ENV.device, ENV.caption, ENV.stamp
print(CAPTION)


# %% [markdown]
# ## The two conventions, and what guidance computes
#
# With exact scores the guided prediction is also *classifier* guidance with scale $s$ and
# the exact noisy classifier: by Bayes,
# $\varepsilon(x_t, y) - \varepsilon(x_t, \varnothing) = -\sigma_t\nabla\log p_t(y \mid x_t)$.
# On a Gaussian mixture (label $-1$ is $\varnothing$ there) we check the conventions and this
# identity against independently computed closed forms.

# %%
gm = mixture_2d("grid9")
ns_c = NoiseScheduleVP("linear")


def exact_cond_model(x, t, cond):
    """The exact eps(x_t, t | y) of the mixture; label -1 means unconditional."""
    return gm.eps(x, t, ns_c, y=cond)


x = (
    torch.randn(256, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    * 2
)
t = torch.full((256,), 0.4, dtype=torch.float64)
y = torch.randint(0, 9, (256,), generator=torch.Generator().manual_seed(1))
null = torch.full_like(y, -1)
eps_y, eps_null = gm.eps(x, t, ns_c, y=y), gm.eps(x, t, ns_c)
for w in [0.0, 1.0, 3.0]:
    cfg = model_wrapper(
        exact_cond_model,
        ns_c,
        model_type="noise",
        guidance_type="classifier-free",
        condition=y,
        unconditional_condition=null,
        guidance_scale=w + 1,
    )
    cg = model_wrapper(
        gm.noise_fn(ns_c),
        ns_c,
        model_type="noise",
        guidance_type="classifier",
        condition=y,
        guidance_scale=w + 1,
        classifier_fn=gm.classifier_fn(ns_c),
    )
    e_conv = float((cfg(x, t) - ((1 + w) * eps_y - w * eps_null)).abs().max())
    e_cg = float((cfg(x, t) - cg(x, t)).abs().max())
    print(
        f"w={w:g} (s={w + 1:g}): |CFG - ((1+w) eps_y - w eps_null)| = {e_conv:.1e}, "
        f"|CFG - classifier guidance| = {e_cg:.1e}"
    )
    assert e_conv < 1e-10 and e_cg < 1e-8
s0 = model_wrapper(
    exact_cond_model,
    ns_c,
    model_type="noise",
    guidance_type="classifier-free",
    condition=y,
    unconditional_condition=null,
    guidance_scale=0.0,
)
# s = 0: the unconditional model
assert float((s0(x, t) - eps_null).abs().max()) < 1e-12

# %% [markdown]
# ## Sweeping the scale on the mixture
#
# Samples of class 4 (the centre mode) with DPM-Solver++(2M), the solver recommended for
# guided sampling, for growing $w$: the samples leave the other modes, then concentrate and
# overshoot away from them — guidance sharpens more than Bayes' rule would.

# %%
n = 400 if QUICK else 2000
x_T = torch.randn(n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
Y = 4
WS = [0.0, 1.0, 3.0, 8.0]
fig, axes = plt.subplots(1, len(WS) + 1, figsize=(15, 3.3), sharex=True, sharey=True)
ref = gm.sample(n, generator=torch.Generator().manual_seed(3))
axes[0].scatter(ref[:, 0], ref[:, 1], s=2, color="0.5")
axes[0].set_title("data (all classes)")
spread = {}
for ax, w in zip(axes[1:], WS):
    fn = model_wrapper(
        exact_cond_model,
        ns_c,
        model_type="noise",
        guidance_type="classifier-free",
        condition=torch.full((n,), Y),
        unconditional_condition=torch.full((n,), -1),
        guidance_scale=w + 1,
    )
    xs = DPM_Solver(fn, ns_c, algorithm_type="dpmsolver++").sample(
        x_T, steps=20, order=2, skip_type="logSNR", t_end=1e-3
    )
    spread[w] = float(xs.std(0).mean())
    ax.scatter(xs[:, 0], xs[:, 1], s=2, color="tab:red")
    ax.set_title(f"w = {w:g} (s = {w + 1:g}); std {spread[w]:.3f}", fontsize=9)
    ax.set_aspect("equal")
fig.suptitle(f"Classifier-free guidance towards class {Y} with the exact model")
caption(fig)
plt.show()
print("per-axis std of class-4 samples:", spread, " (the class itself: 0.2)")
assert abs(spread[0.0] - 0.2) < 0.03  # w = 0 samples the class-conditional Gaussian
assert spread[8.0] < spread[0.0]  # strong guidance sharpens it

# %% [markdown]
# ## Digits: one network, many scales
#
# `digits-cond` is a class-conditional UNet with 11 label embeddings: digits 0–9 and the
# null class 10, trained with label dropout. We sweep $w$ and measure how often a separate
# classifier trained on clean digits (`digits-features`) recognises the asked-for digit,
# and how varied the samples of one class are (mean pixel distance between two samples
# of the same digit).

# %%
unet, ns, card = pretrained.load("digits-cond", device=device)
SIZE = card["kwargs"]["image_size"]  # the shipped digits models work at the native 8x8
NULL = card["null_class"]
print(
    f"null class {NULL}, label dropout {card['label_dropout']}, "
    f"trained {card['steps']} steps on {card['device']}"
)
n_per_class = 2 if QUICK else 6
labels = torch.arange(10, device=device).repeat(n_per_class)
x_T = torch.randn(
    len(labels),
    1,
    SIZE,
    SIZE,
    device=device,
    generator=torch.Generator(device).manual_seed(0),
)
DIGIT_WS = [0.0, 1.0, 3.0] if QUICK else [0.0, 0.5, 1.0, 2.0, 3.0, 5.0]
samples, accuracy, diversity = {}, {}, {}
with torch.no_grad():
    for w in [-1.0, *DIGIT_WS]:  # w = -1 (s = 0): the unconditional model
        fn = model_wrapper(
            unet,
            ns,
            model_type="noise",
            guidance_type="classifier-free",
            condition=labels,
            unconditional_condition=torch.full_like(labels, NULL),
            guidance_scale=w + 1,
        )
        x = DPM_Solver(fn, ns, algorithm_type="dpmsolver++").sample(
            x_T,
            steps=10 if QUICK else 20,
            order=2,
            skip_type="logSNR",
            method="multistep",
        )
        samples[w] = x.clamp(-1, 1).cpu()
        accuracy[w] = classifier_accuracy(samples[w], labels.cpu())
        pairs = samples[w].reshape(n_per_class, 10, -1)
        diversity[w] = float((pairs[0] - pairs[1]).abs().mean())
        print(
            f"w={w:4g} (s={w + 1:g}): accuracy {accuracy[w]:.2f}, "
            f"within-class diversity {diversity[w]:.3f}"
        )

fig, axes = plt.subplots(len(samples), 1, figsize=(10, 1.1 * len(samples) + 0.6))
for ax, (w, x) in zip(axes, samples.items()):
    ax.imshow(torch.cat(list(x[:10, 0]), dim=1), cmap="gray_r", vmin=-1, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_ylabel(
        "uncond." if w == -1 else f"w = {w:g}", rotation=0, ha="right", va="center"
    )
fig.suptitle(
    "digits-cond with classifier-free guidance (DPM-Solver++(2M)); columns ask for 0..9"
)
caption(fig)
plt.show()

# %%
assert all(torch.isfinite(x).all() for x in samples.values())
assert accuracy[-1.0] < 0.35  # unconditional: labels ignored
# the conditional model (w = 0, s = 1) follows the label
assert accuracy[0.0] > accuracy[-1.0] + 0.3
assert max(accuracy[w] for w in DIGIT_WS) >= accuracy[0.0]

# %% [markdown]
# ## Run it on a released guided-diffusion checkpoint
#
# guided-diffusion's class-conditional models were not trained with a null label, but the
# release also has an unconditional 256x256 model of the same architecture, so the two
# networks together give $\varepsilon(x_t, y)$ and $\varepsilon(x_t, \varnothing)$. Download
# `256x256_diffusion.pt` and `256x256_diffusion_uncond.pt` from
# [guided-diffusion](https://github.com/openai/guided-diffusion) (the reader's step; nothing
# here downloads) and set the paths. Until then the cell builds both architectures at a tiny
# width with random weights, saves them and runs the same code; the null label is $-1$.

# %%
import tempfile  # noqa: E402

from difflearn import beta_schedule, create_model, load_checkpoint  # noqa: E402

COND, UNCOND = None, None  # e.g. "256x256_diffusion.pt", "256x256_diffusion_uncond.pt"
# stand-in only: the released models have width 256
TINY = dict(model_channels=32, num_res_blocks=1, num_head_channels=32)
if COND is None:
    folder = tempfile.mkdtemp()
    COND, UNCOND = (
        os.path.join(folder, "256x256_diffusion.pt"),
        os.path.join(folder, "256x256_diffusion_uncond.pt"),
    )
    torch.save(create_model("256x256_diffusion", **TINY).state_dict(), COND)
    torch.save(create_model("256x256_diffusion_uncond", **TINY).state_dict(), UNCOND)
    overrides, size, steps = TINY, 32, 3
else:
    overrides, size, steps = {}, 256, 20
cond_net = load_checkpoint(COND, preset="256x256_diffusion", device=device, **overrides)
uncond_net = load_checkpoint(
    UNCOND, preset="256x256_diffusion_uncond", device=device, **overrides
)


def two_networks(x, t, y):
    """eps(x_t, y) from the conditional network, eps(x_t, null) (label -1) from the
    unconditional one."""
    is_null = y < 0
    out = torch.empty_like(x)
    if (~is_null).any():
        out[~is_null] = cond_net(x[~is_null], t[~is_null], y=y[~is_null])[:, :3]
    if is_null.any():
        out[is_null] = uncond_net(x[is_null], t[is_null])[:, :3]
    return out


gd_ns = NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000))
y_gd = torch.tensor([207, 360], device=device)
gd_fn = model_wrapper(
    two_networks,
    gd_ns,
    model_type="noise",
    guidance_type="classifier-free",
    condition=y_gd,
    unconditional_condition=torch.full_like(y_gd, -1),
    guidance_scale=3.0,
)
with torch.no_grad():
    images = DPM_Solver(gd_fn, gd_ns, algorithm_type="dpmsolver++").sample(
        torch.randn(2, 3, size, size, device=device),
        steps=steps,
        order=2,
        skip_type="time_uniform",
    )
print(tuple(images.shape), "finite:", bool(torch.isfinite(images).all()))
assert images.shape == (2, 3, size, size) and torch.isfinite(images).all()

# %% [markdown]
# Further reading: classifier-free guidance [@ho2022classifierfree], classifier guidance
# [@dhariwal2021diffusion], DPM-Solver++ [@lu2022dpmsolverpp].
