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
# # The classifier's temperature
#
# [Open this notebook in Colab](https://colab.research.google.com/github/difflearn/difflearn/blob/main/docs/demos/classifier-temperature.ipynb)
# · runs on a CPU in seconds · every claim below is an `assert` that ran when this page was built
#
# The third of the original DPM-Solver demos guided a diffusion model with a classifier
# whose logits $f(x)$ were divided by a temperature $\tau$ inside the log-softmax:
#
# $$\log p_\tau(y \mid x) = \log \operatorname{softmax}\big(f(x)/\tau\big)_y .$$
#
# With guidance scale $\gamma$ the sampler aims at the *tilted* distribution
#
# $$q_{\gamma,\tau}(x) \propto p(x)\, p_\tau(y \mid x)^{\gamma} .$$
#
# What does $\tau$ do to it? On a Gaussian mixture every piece is closed form, so we
# can draw $q_{\gamma,\tau}$ exactly, check three limits, and then watch a real sampler
# and a real classifier on digits.

# %%
import math
import os
import subprocess
import sys

# on Colab only: install difflearn (the site build and the tests skip this)
if "google.colab" in sys.modules:
    PACKAGE = "git+https://github.com/difflearn/difflearn"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", PACKAGE], check=True)

import matplotlib.pyplot as plt
import torch

from difflearn import (
    DPM_Solver,
    GaussianMixture,
    NoiseScheduleVP,
    model_wrapper,
    pretrained,
)
from difflearn.demo import demo_env
from difflearn.metrics import classifier_accuracy

# quick mode in the tests (DIFFLEARN_QUICK=1), the device, and a caption naming both
ENV = demo_env()
QUICK, device, CAPTION, caption = ENV.quick, ENV.device, ENV.caption, ENV.stamp
print(CAPTION)


# %% [markdown]
# ## The tilted distribution, exactly
#
# Three overlapping Gaussians $\mathcal N(\mu_k, s^2 I)$ with equal weights; the exact
# classifier's logits are the log joint densities
# $f_k(x) = \log w_k + \log \mathcal N(x; \mu_k, s^2 I)$, so $\operatorname{softmax}(f)$ is
# Bayes' posterior $p(k \mid x)$. We evaluate $q_{\gamma,\tau}$ on a grid and normalise it
# numerically: no sampling, no approximation beyond the grid.

# %%
S = 0.7
gm = GaussianMixture([[-1.2, 0.0], [1.2, 0.0], [0.0, 1.8]], S)
Y = 0  # the class we guide towards
grid = torch.linspace(-4, 4, 161 if QUICK else 321, dtype=torch.float64)
GX, GY = torch.meshgrid(grid, grid, indexing="xy")
pts = torch.stack([GX.reshape(-1), GY.reshape(-1)], 1)
dA = float(grid[1] - grid[0]) ** 2


def logits(x, s=S):
    """f_k(x) = log w_k + log N(x; mu_k, s^2 I): the exact classifier's logits
    (B, K)."""
    sq = ((x[:, None, :] - gm.means[None]) ** 2).sum(-1)
    return torch.log(gm.weights) - 0.5 * sq / s**2 - math.log(2 * math.pi * s**2)


f = logits(pts)
log_p = torch.logsumexp(f, 1)


def normalise(log_q):
    q = torch.exp(log_q - log_q.max())
    return q / (q.sum() * dA)


def tilted(gamma, tau):
    """q_{gamma, tau} on the grid (a density: it integrates to 1)."""
    return normalise(log_p + gamma * torch.log_softmax(f / tau, 1)[:, Y])


def tv(a, b):
    """Total-variation distance between two densities on the grid."""
    return 0.5 * float((a - b).abs().sum() * dA)


p = normalise(log_p)
region = f.argmax(1) == Y  # where the classifier's top class is Y
TAUS = [0.1, 0.3, 1.0, 3.0, 10.0]
GAMMAS = [1.0, 4.0]
fig, axes = plt.subplots(
    len(GAMMAS), len(TAUS), figsize=(13, 5.6), sharex=True, sharey=True
)
for row, gamma in zip(axes, GAMMAS):
    for ax, tau in zip(row, TAUS):
        q = tilted(gamma, tau)
        ax.contourf(GX, GY, q.reshape(GX.shape), levels=20, cmap="viridis")
        ax.contour(
            GX,
            GY,
            region.reshape(GX.shape).double(),
            levels=[0.5],
            colors="white",
            linewidths=0.8,
        )
        ax.set_title(
            f"γ={gamma:g}, τ={tau:g}\n"
            f"mass on class {Y}'s side: {float(q[region].sum() * dA):.2f}",
            fontsize=9,
        )
        ax.set_aspect("equal")
fig.suptitle(
    "Exact tilted densities p(x) p_τ(y|x)^γ (white: the decision boundary of class y)"
)
caption(fig)
plt.show()

# %% [markdown]
# Three limits, each checked against an independent closed form:
#
# 1. **$\gamma = 1, \tau = 1$ is Bayes' rule**: $p(x)\,p(y \mid x) = w_y\,\mathcal N(x; \mu_y, s^2 I)$,
#    so $q_{1,1}$ is the class-conditional Gaussian.
# 2. **$\tau \to 0$ truncates**: $\operatorname{softmax}(f/\tau)$ becomes the indicator of the
#    top class, so $q_{\gamma,\tau} \to p(x)\,\mathbf 1[\arg\max_k f_k(x) = y]$, whatever $\gamma$.
#    Guidance no longer pushes samples that are already classified as $y$.
# 3. **$\tau \to \infty$ with $\gamma/\tau = c$ fixed is an exponential tilt**:
#    $\log\operatorname{softmax}(f/\tau)_y = (f_y - \bar f)/\tau - \log K + O(\tau^{-2})$, and for
#    equal variances $f_y - \bar f = x^\top v + \text{const}$ with $v = (\mu_y - \bar\mu)/s^2$.
#    Tilting a Gaussian by $e^{c\,x^\top v}$ shifts its mean by $c\,s^2 v$ and reweights it by
#    $e^{c\,\mu_k^\top v}$: the tilted mixture is again a Gaussian mixture whose means are pushed
#    *past* class $y$, away from the others — the "extrapolating" regime of large guidance.

# %%
q11 = tilted(1.0, 1.0)
class_conditional = torch.exp(-((pts - gm.means[Y]) ** 2).sum(1) / (2 * S**2)) / (
    2 * math.pi * S**2
)
err1 = float((q11 - class_conditional).abs().max() / class_conditional.max())
print(f"1. max |q_11 - N(mu_y, s^2)| / max N = {err1:.1e}")
assert err1 < 1e-3

truncated = normalise(
    torch.where(region, log_p, torch.tensor(-math.inf, dtype=torch.float64))
)
tv_small = {gamma: tv(tilted(gamma, 0.02), truncated) for gamma in GAMMAS}
print(f"2. TV(q_(gamma, tau=0.02), p restricted to class {Y}'s region) = {tv_small}")
assert all(d < 0.03 for d in tv_small.values())

c = 2.0
v = (gm.means[Y] - gm.means.mean(0)) / S**2
shifted = GaussianMixture(
    gm.means + c * S**2 * v, S, gm.weights * torch.exp(c * gm.means @ v)
)
tv_large = tv(tilted(c * 1e4, 1e4), normalise(shifted.log_prob(pts)))
print(f"3. TV(q_(gamma=2e4, tau=1e4), the shifted mixture) = {tv_large:.4f}")
assert tv_large < 0.02

# %% [markdown]
# So $\tau$ moves guidance between two regimes: small $\tau$ *truncates* $p$ to the class's
# decision region (a mild, diversity-preserving tilt), large $\tau$ with a proportionally
# large $\gamma$ *extrapolates* along the direction separating the classes. For equal
# variances there is one more identity: dividing the logits by $\tau$ is the same as
# inflating every class variance to $\tau s^2$ (the $\log w_k$ and normalising constants
# shift all logits equally here and cancel in the softmax).

# %%
same = torch.allclose(
    torch.softmax(f / 3.0, 1),
    torch.softmax(logits(pts, S * math.sqrt(3.0)), 1),
    atol=1e-12,
)
print("softmax(f/3) equals the posterior of the mixture with variances 3 s^2:", same)
assert same

# %% [markdown]
# ## What a guided sampler actually does
#
# A sampler cannot use $p_\tau(y \mid x_0)$: it guides every step with the classifier of the
# *noisy* $x_t$. We use the exact noisy posterior of the mixture (known for every $t$),
# divide its logits by $\tau$, and sample with DPM-Solver++(3M) on a logSNR grid. At
# $\gamma = \tau = 1$ the guided model is exactly the class-conditional one and the samples
# follow $\mathcal N(\mu_y, s^2 I)$; for other settings the result is close to, but not
# exactly, $q_{\gamma,\tau}$ (the tilt of the noisy marginals is not the noisy marginal of
# the tilt).

# %%
ns = NoiseScheduleVP("linear")
eps_uncond = gm.noise_fn(ns)  # exact: the model sees continuous time


def noisy_classifier(tau):
    """log softmax(f_t(x_t) / tau)_y with the exact noisy-class posterior's logits
    f_t."""

    def classifier_fn(x, t, y):
        # (B, K), differentiable in x
        log_post = torch.log(gm.class_posterior(x, t, ns))
        return (
            torch.log_softmax(log_post / tau, 1)
            .gather(1, y[:, None].long())[:, 0]
            .to(x.dtype)
        )

    return classifier_fn


n = 500 if QUICK else 3000
x_T = torch.randn(n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
y = torch.full((n,), Y)
samples = {}
for gamma in GAMMAS:
    for tau in TAUS:
        fn = model_wrapper(
            eps_uncond,
            ns,
            model_type="noise",
            guidance_type="classifier",
            condition=y,
            guidance_scale=gamma,
            classifier_fn=noisy_classifier(tau),
        )
        samples[gamma, tau] = DPM_Solver(fn, ns, algorithm_type="dpmsolver++").sample(
            x_T, steps=20, order=3, skip_type="logSNR", method="multistep", t_end=1e-3
        )

x11 = samples[1.0, 1.0]
mean_err = float((x11.mean(0) - gm.means[Y]).norm())
print(
    f"γ=τ=1: sample mean {x11.mean(0).tolist()}, std {x11.std(0).tolist()}, "
    f"target {gm.means[Y].tolist()}, {S}"
)
assert mean_err < 4 * S / math.sqrt(n) * math.sqrt(2)
assert abs(float(x11.std(0).mean()) - S) < 0.1


def in_region(x):
    return float((logits(x).argmax(1) == Y).double().mean())


print("fraction of samples classified as y  (sampler | exact tilted q)")
for (gamma, tau), x in samples.items():
    q = tilted(gamma, tau)
    print(
        f"γ={gamma:g} τ={tau:4g}:  {in_region(x):.3f} | "
        f"{float(q[region].sum() * dA):.3f}"
    )

fig, axes = plt.subplots(
    len(GAMMAS), len(TAUS), figsize=(13, 5.6), sharex=True, sharey=True
)
for row, gamma in zip(axes, GAMMAS):
    for ax, tau in zip(row, TAUS):
        q = tilted(gamma, tau)
        ax.contour(
            GX, GY, q.reshape(GX.shape), levels=6, cmap="viridis", linewidths=0.8
        )
        x = samples[gamma, tau][:600]
        ax.scatter(x[:, 0], x[:, 1], s=2, color="tab:red", alpha=0.5)
        ax.set_title(f"γ={gamma:g}, τ={tau:g}", fontsize=9)
        ax.set_xlim(-4, 4)
        ax.set_ylim(-4, 4)
        ax.set_aspect("equal")
fig.suptitle(
    "Guided DPM-Solver++(3M) samples (red) over the exact tilted density (contours)"
)
caption(fig)
plt.show()

# %%
# the sampler follows the same trend as the exact tilt: smaller tau keeps more samples on y's side at γ=1
assert in_region(samples[1.0, 0.1]) > in_region(samples[1.0, 10.0])
assert in_region(samples[4.0, 1.0]) > in_region(samples[1.0, 1.0])

# %% [markdown]
# ## The same on digits
#
# Now a trained noisy classifier (`digits-classifier`, an `EncoderUNetModel`) guides the
# unconditional digits model (`digits-uncond`). `pretrained.classifier_log_prob(classifier, τ)`
# is the `classifier_fn` of the original demo: the logits divided by $\tau$ inside the
# log-softmax. We fix the scale at 4 (the original demo's) and sweep $\tau$; each row asks
# for the digits 0–9. The accuracy column is measured by a separate classifier trained on
# clean digits only (`digits-features`).
#
# A property of any classifier, checked on this one: for large $\tau$,
# $\tau\,\nabla_x \log p_\tau(y \mid x) \to \nabla_x\big(f_y - \tfrac1K\sum_k f_k\big)$, so
# guidance with $(\gamma, \tau)$ approaches guidance by the centred logit with scale $\gamma/\tau$.

# %%
unet, digits_ns, unet_card = pretrained.load("digits-uncond", device=device)
# the shipped digits models work at the native 8x8
SIZE = unet_card["kwargs"]["image_size"]
classifier, _, _ = pretrained.load("digits-classifier", device=device)

x_probe = torch.randn(
    8, 1, SIZE, SIZE, device=device, generator=torch.Generator(device).manual_seed(3)
)
t_probe = torch.full((8,), 300.0, device=device)
y_probe = torch.arange(8, device=device) % 10


def grad_of(fn):
    x = x_probe.clone().requires_grad_(True)
    return torch.autograd.grad(fn(x).sum(), x)[0]


big_tau = 1e3
g_tau = big_tau * grad_of(
    lambda x: pretrained.classifier_log_prob(classifier, big_tau)(x, t_probe, y_probe)
)
g_lim = grad_of(
    lambda x: (lambda lg: lg.gather(1, y_probe[:, None])[:, 0] - lg.mean(1))(
        classifier(x, t_probe)
    )
)
rel = float((g_tau - g_lim).norm() / g_lim.norm())
print(
    f"|τ ∇log p_τ - ∇(f_y - mean f)| / |∇(f_y - mean f)| at τ = {big_tau:g}: {rel:.1e}"
)
assert rel < 1e-2

# %%
n_per_class = 2 if QUICK else 4
labels = torch.arange(10, device=device).repeat_interleave(n_per_class)
x_T = torch.randn(
    len(labels),
    1,
    SIZE,
    SIZE,
    device=device,
    generator=torch.Generator(device).manual_seed(0),
)
SCALE = 4.0
DIGIT_TAUS = [0.3, 1.0, 3.0] if QUICK else [0.1, 0.3, 1.0, 3.0, 10.0]
rows, accuracy = {}, {}
for tau in [None, *DIGIT_TAUS]:
    if tau is None:  # no guidance
        fn = model_wrapper(unet, digits_ns, model_type="noise")
    else:
        fn = model_wrapper(
            unet,
            digits_ns,
            model_type="noise",
            guidance_type="classifier",
            condition=labels,
            guidance_scale=SCALE,
            classifier_fn=pretrained.classifier_log_prob(classifier, tau),
        )
    x = DPM_Solver(fn, digits_ns, algorithm_type="dpmsolver++").sample(
        x_T, steps=10 if QUICK else 20, order=3, skip_type="logSNR", method="multistep"
    )
    rows[tau] = x.clamp(-1, 1).cpu()
    accuracy[tau] = classifier_accuracy(rows[tau], labels.cpu())
    print(
        f"{'unguided' if tau is None else f'scale {SCALE:g}, τ={tau:g}':>18s}: "
        f"accuracy {accuracy[tau]:.2f}"
    )

fig, axes = plt.subplots(len(rows), 1, figsize=(10, 1.1 * len(rows) + 0.6))
for ax, (tau, x) in zip(axes, rows.items()):
    strip = torch.cat(list(x[:, 0]), dim=1)  # (SIZE, SIZE * B)
    ax.imshow(strip, cmap="gray_r", vmin=-1, vmax=1)
    ax.set_yticks([])
    ax.set_xticks([])
    ax.set_ylabel(
        "none" if tau is None else f"τ={tau:g}", rotation=0, ha="right", va="center"
    )
fig.suptitle(
    f"Classifier guidance, scale {SCALE:g}, digits 0-9 ({n_per_class} each) per row"
)
caption(fig)
plt.show()

# %%
assert all(torch.isfinite(x).all() for x in rows.values())
# guidance at τ = 1 makes the asked-for digit far more likely
assert accuracy[1.0] > accuracy[None] + 0.2

# %% [markdown]
# ## Run it on a released guided-diffusion checkpoint
#
# The original demo used guided-diffusion's class-conditional 64x64 model and its noisy
# classifier. Download `64x64_diffusion.pt` and `64x64_classifier.pt` from
# [guided-diffusion](https://github.com/openai/guided-diffusion) (the reader's step; nothing
# here downloads) and set the two paths. Until then the cell builds both architectures at a
# tiny width with random weights, saves them as `.pt` files and runs the very same loading
# and sampling code. The 64x64 model was trained with the cosine schedule.

# %%
import tempfile  # noqa: E402

from difflearn import beta_schedule, create_model, load_checkpoint  # noqa: E402
from difflearn.models import eps_only  # noqa: E402

MODEL, CLASSIFIER = None, None  # e.g. "64x64_diffusion.pt", "64x64_classifier.pt"
TINY = dict(model_channels=32, num_res_blocks=1, num_head_channels=32)  # stand-in only
if MODEL is None:
    folder = tempfile.mkdtemp()
    MODEL, CLASSIFIER = (
        os.path.join(folder, "64x64_diffusion.pt"),
        os.path.join(folder, "64x64_classifier.pt"),
    )
    torch.save(create_model("64x64_diffusion", **TINY).state_dict(), MODEL)
    torch.save(create_model("64x64_classifier", **TINY).state_dict(), CLASSIFIER)
    overrides = TINY
else:
    overrides = {}

gd_model = load_checkpoint(MODEL, preset="64x64_diffusion", device=device, **overrides)
gd_classifier = load_checkpoint(
    CLASSIFIER, preset="64x64_classifier", device=device, **overrides
)
gd_ns = NoiseScheduleVP("discrete", betas=beta_schedule("cosine", 1000))
# ImageNet classes: golden retriever, otter
y_gd = torch.tensor([207, 360], device=device)
gd_fn = model_wrapper(
    eps_only(gd_model, channels=3),
    gd_ns,
    model_type="noise",
    model_kwargs={"y": y_gd},
    guidance_type="classifier",
    condition=y_gd,
    guidance_scale=4.0,
    classifier_fn=pretrained.classifier_log_prob(gd_classifier, temperature=0.5),
)
with torch.no_grad():
    images = DPM_Solver(gd_fn, gd_ns, algorithm_type="dpmsolver++").sample(
        torch.randn(2, 3, 64, 64, device=device),
        steps=3 if overrides else 20,
        order=3,
        skip_type="logSNR",
        method="multistep",
    )
print(tuple(images.shape), "finite:", bool(torch.isfinite(images).all()))
assert images.shape == (2, 3, 64, 64) and torch.isfinite(images).all()

# %% [markdown]
# Further reading: classifier guidance [@dhariwal2021diffusion], classifier-free guidance
# [@ho2022classifierfree], DPM-Solver++ for guided sampling [@lu2022dpmsolverpp].
