"""The landing page's figure: the same kind of digits noised by the forward process and
made again from noise by the reverse ODE, with the shipped `digits-uncond` model."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from figures._style import apply_style

DEPENDS = ["src/difflearn/pretrained.py", "src/difflearn/samplers/ddim.py",
           "src/difflearn/weights/digits-uncond.safetensors"]
SEED = 0
TIMES = [0.0, 0.05, 0.1, 0.2, 0.4, 1.0]
N = 4  # digits per row
FIGURES = {
    "hero-noise-denoise": {
        "alt": "Two rows of small digit images. Top: four handwritten digits blur into "
               "Gaussian noise as t goes from 0 to 1. Bottom: starting from noise at t = 1, "
               "the shipped digits model's reverse ODE (DDIM, 50 steps) makes new digits "
               "that are clear at t = 0.",
        "caption": "Forward: $x_t = \\alpha_t x_0 + \\sigma_t \\varepsilon$ turns data into "
                   "noise. Reverse: the probability-flow ODE, solved with DDIM in 50 steps "
                   "by `digits-uncond` (shipped in the package), turns noise into new digits.",
    },
}


def _tile(x: torch.Tensor, ncol: int) -> np.ndarray:
    """(B, 1, 8, 8) in [-1, 1] -> one image with a 1-pixel gap."""
    x = x.clamp(-1, 1).cpu().numpy()[:, 0]
    B, H, W = x.shape
    nrow = (B + ncol - 1) // ncol
    canvas = np.full((nrow * (H + 1) - 1, ncol * (W + 1) - 1), np.nan)
    for k in range(B):
        r, c = divmod(k, ncol)
        canvas[r * (H + 1):r * (H + 1) + H, c * (W + 1):c * (W + 1) + W] = x[k]
    return canvas


def render(quick: bool, device: str) -> dict:
    from difflearn import model_wrapper, pretrained, sample
    from difflearn.data import load_digits

    apply_style()
    unet, ns, _ = pretrained.load("digits-uncond", device=device)
    model_fn = model_wrapper(unet, ns, model_type="noise")
    x0 = load_digits()[0][[0, 2, 3, 7]].to(device)  # (N, 1, 8, 8)
    g = torch.Generator(device="cpu").manual_seed(SEED)
    eps = torch.randn((8, 1, 8, 8), generator=g)[:N].to(device)
    forward = []
    for t in TIMES:
        tt = torch.tensor([max(t, 1e-3)], device=device)
        a, s = ns.marginal_alpha(tt), ns.marginal_std(tt)
        forward.append(x0 if t == 0 else a * x0 + s * eps)

    steps = 10 if quick else 50
    seen = {}

    def keep(info):
        seen[float(info["t"])] = info["x_t"].detach().clone()

    with torch.no_grad():
        xT = torch.randn((8, 1, 8, 8), generator=g)[:N].to(device)
        out = sample(model_fn, xT, ns, method="ddim", steps=steps, callback=keep)
    times = np.array(sorted(seen))
    reverse = []
    for t in TIMES[::-1]:
        if t == 1.0:
            reverse.append(xT)
        elif t == 0.0:
            reverse.append(out)
        else:
            reverse.append(seen[float(times[np.argmin(abs(times - t))])])

    rows = [(forward, "forward", TIMES), (reverse, "reverse", TIMES[::-1])]
    wide, axes = plt.subplots(2, len(TIMES), figsize=(8, 1.9))
    _draw(axes, rows)
    # a phone shows 3 columns: forward in two rows, then reverse in two rows
    half = len(TIMES) // 2
    tall, axes = plt.subplots(4, half, figsize=(4, 3.1))
    _draw(axes, [(s[i:i + half], label if i == 0 else "", ts[i:i + half])
                 for s, label, ts in rows for i in (0, half)])
    return {"hero-noise-denoise": wide, "hero-noise-denoise-portrait": tall}


def _draw(axes, rows) -> None:
    cmap = plt.get_cmap("gray_r").copy()
    cmap.set_bad("#fcfcfc")
    for row, (states, label, ts) in enumerate(rows):
        for j, (x, t) in enumerate(zip(states, ts)):
            ax = axes[row, j]
            ax.imshow(_tile(x, N), cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            for spine in ax.spines.values():
                spine.set_visible(False)
            ax.set_title(f"t = {t:g}", fontsize=10)
        axes[row, 0].set_ylabel(label, fontsize=10)
