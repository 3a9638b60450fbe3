r"""Sample quality on the glyph images: caption accuracy and a Fréchet distance.

**Caption accuracy.** A text-to-image model is asked for "a small red 3, rotated
left, on a dark background"; the shipped `glyphs-reader` (a CNN trained on real
glyph images, never on samples) reads the five attributes of what it drew, and we
count how often each attribute, and all five together, match the caption. The
reader's own accuracy on real images bounds what this can show (its card reports
it, on clean test images and on their reconstructions by the autoencoder).

**Glyph FID.** The Fréchet distance (Heusel et al., 2017) between Gaussian fits of
the reader's 128-dimensional features of generated and of real test images,
$\|\mu_1 - \mu_2\|^2 + \operatorname{tr}(\Sigma_1 + \Sigma_2 -
2(\Sigma_1\Sigma_2)^{1/2})$ (`difflearn.metrics.frechet_distance`). As with the
digits FID, the numbers compare models on this page with each other, not with
published FIDs, and they depend on the number of images: compare equal-size sets.
With 128 features and a few hundred images the plug-in estimate is dominated by its
bias, which shrinks like $1/n$ and is smaller for less diverse sets, so a collapsed
model can score below real images.

**Glyph KID.** The kernel distance of Bińkowski et al. (2018): the squared maximum
mean discrepancy between the two feature sets with the cubic kernel
$k(a, b) = (a^\top b / d + 1)^3$, estimated without bias (U-statistics), on features
standardised by the real set's mean and standard deviation. Its expectation is the
same at every $n$, and zero when both sets come from one distribution, so it is the
number to read for a few hundred samples; it can come out slightly negative.
"""

from __future__ import annotations

import torch
from torch import nn

from .data.glyphs import ATTRIBUTES
from .metrics import frechet_distance, gaussian_fit


def _reader(model):
    if model is None:
        from .pretrained import load

        return load("glyphs-reader")[0]
    return model


def _check_images(images: torch.Tensor) -> None:
    if images.dim() != 4 or tuple(images.shape[1:]) != (3, 32, 32):
        raise ValueError(
            f"images must have shape (n, 3, 32, 32), got {tuple(images.shape)}"
        )


@torch.no_grad()
def glyph_features(images: torch.Tensor, model: nn.Module | None = None):
    """Reader features `(n, 128)` (float64) of images in [-1, 1] (clamped)."""
    _check_images(images)
    model = _reader(model)
    p = next(model.parameters())
    out = [
        model.features(x.to(p.device, p.dtype).clamp(-1, 1)).double().cpu()
        for x in images.split(1000)
    ]
    return torch.cat(out)


# --8<-- [start:glyph_fid]
def glyph_fid(
    images_a: torch.Tensor, images_b: torch.Tensor, model: nn.Module | None = None
) -> float:
    """The Fréchet distance between Gaussian fits of the reader features of two
    image sets."""
    model = _reader(model)
    fa, fb = glyph_features(images_a, model), glyph_features(images_b, model)
    return frechet_distance(*gaussian_fit(fa), *gaussian_fit(fb))


# --8<-- [end:glyph_fid]


# --8<-- [start:glyph_kid]
def kernel_distance(fa: torch.Tensor, fb: torch.Tensor) -> float:
    r"""Unbiased MMD$^2$ between feature sets `(m, d)` and `(n, d)` (m, n >= 2) with
    the cubic kernel $(a^\top b/d + 1)^3$."""
    if fa.shape[0] < 2 or fb.shape[0] < 2:
        raise ValueError(
            f"kernel_distance needs at least 2 samples per set, got {fa.shape[0]} and "
            f"{fb.shape[0]}"
        )
    m, n, d = fa.shape[0], fb.shape[0], fa.shape[1]
    k_aa = (fa @ fa.T / d + 1) ** 3
    k_bb = (fb @ fb.T / d + 1) ** 3
    k_ab = (fa @ fb.T / d + 1) ** 3
    within_a = (k_aa.sum() - k_aa.diagonal().sum()) / (m * (m - 1))  # pairs i != j
    within_b = (k_bb.sum() - k_bb.diagonal().sum()) / (n * (n - 1))
    return float(within_a + within_b - 2 * k_ab.mean())


def glyph_kid(
    images: torch.Tensor, real: torch.Tensor, model: nn.Module | None = None
) -> float:
    """The kernel distance between the reader features of `images` and of `real`
    images, both standardised by the real features' mean and standard deviation."""
    model = _reader(model)
    fa, fb = glyph_features(images, model), glyph_features(real, model)
    mean, std = fb.mean(0), fb.std(0).clamp_min(1e-8)
    return kernel_distance((fa - mean) / std, (fb - mean) / std)


# --8<-- [end:glyph_kid]


# --8<-- [start:attribute_accuracy]
@torch.no_grad()
def attribute_accuracy(
    images: torch.Tensor, attributes: dict, model: nn.Module | None = None
) -> dict[str, float]:
    """How often the reader reads each asked-for attribute, and all of them together.

    `attributes` maps some of the attribute names to `(n,)` indices (a caption that
    leaves one out asks nothing about it); `"all"` is the fraction of images whose
    every named attribute is read as asked.
    """
    _check_images(images)
    unknown = sorted(set(attributes) - set(ATTRIBUTES))
    if unknown:
        raise ValueError(f"unknown attributes {unknown}; known: {list(ATTRIBUTES)}")
    model = _reader(model).eval()
    p = next(model.parameters())
    reads = [
        model.read(x.to(p.device, p.dtype).clamp(-1, 1)) for x in images.split(1000)
    ]
    out, every = {}, torch.ones(len(images), dtype=torch.bool)
    for name, want in attributes.items():
        got = torch.cat([r[name].cpu() for r in reads])
        hit = got == torch.as_tensor(want).cpu()
        out[name] = round(float(hit.double().mean()), 4)
        every &= hit
    out["all"] = round(float(every.double().mean()), 4)
    return out


# --8<-- [end:attribute_accuracy]


__all__ = [
    "attribute_accuracy",
    "glyph_features",
    "glyph_fid",
    "glyph_kid",
    "kernel_distance",
]
