r"""Sample quality on digits: a Fréchet distance in the features of our own digits
classifier.

The Fréchet Inception Distance (FID, Heusel et al., 2017) fits a Gaussian to the
features of real and of generated images and measures

$$d^2\big(\mathcal N(\mu_1, \Sigma_1), \mathcal N(\mu_2, \Sigma_2)\big)
= \|\mu_1 - \mu_2\|^2
+ \operatorname{tr}\big(\Sigma_1 + \Sigma_2 - 2(\Sigma_1\Sigma_2)^{1/2}\big),$$

the squared 2-Wasserstein distance between the two Gaussians. Inception-v3
features are made for 299x299 photographs of ImageNet; on 8x8 grey-scale
digits they would measure mostly the upsampling, and the network would have to
be downloaded. So the "digits FID" here uses the 64-dimensional penultimate
layer of `DigitsFeatures`, a small CNN trained on clean digits and shipped as
`digits-features`. Its numbers are comparable with each other, not with
published FIDs. We do not use the noisy classifier `digits-classifier` for it:
classifier-guided samples are steered by that network's gradient, and a
metric computed by the network that was optimised against would flatter them.
"""

from __future__ import annotations

import torch
from torch import nn

from ._deprecated import moved_names
from .pretrained import load
from .validate import check_images, check_labels

__getattr__ = moved_names(
    __name__, {"DigitsFeatures": "difflearn.models.digits_features"}
)


def _extractor(model):
    return load("digits-features")[0] if model is None else model


def _fit(x: torch.Tensor, model: nn.Module) -> torch.Tensor:
    """Resize `(B, C, H, W)` images to the model's `image_size` (area when shrinking,
    bilinear when growing).
    """
    size = getattr(model, "image_size", None)
    if size is None or x.shape[-1] == size:
        return x
    mode = "area" if x.shape[-1] > size else "bilinear"
    return nn.functional.interpolate(x.float(), size=(size, size), mode=mode)


@torch.no_grad()
def features(
    images: torch.Tensor, model: nn.Module | None = None, batch_size: int = 1024
) -> torch.Tensor:
    """Features of `images` (clamped to [-1, 1]) under `model` (default: the shipped
    `digits-features`). Images must be floats in [-1, 1] (a `ValueError` says how to
    convert [0, 1] or uint8 ones).
    """
    check_images("images", images)
    model = _extractor(model)
    p = next(model.parameters())
    out = [
        model.features(_fit(x, model).to(p.device, p.dtype).clamp(-1, 1))
        for x in images.split(batch_size)
    ]
    return torch.cat(out).to(torch.float64)


# --8<-- [start:frechet_distance]
def gaussian_fit(feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Mean and (unbiased) covariance of `(n, d)` features, in float64."""
    feats = torch.as_tensor(feats, dtype=torch.float64)
    if feats.ndim != 2 or feats.shape[0] < 2:
        raise ValueError(f"feats must have shape (n >= 2, d), got {tuple(feats.shape)}")
    return feats.mean(0), torch.cov(feats.T).reshape(feats.shape[1], feats.shape[1])


def _sqrtm_psd(a: torch.Tensor) -> torch.Tensor:
    """Symmetric square root of a symmetric positive semi-definite matrix
    (eigen-decomposition).
    """
    w, v = torch.linalg.eigh(a)
    return (v * w.clamp(min=0).sqrt()) @ v.T


def frechet_distance(mu1, cov1, mu2, cov2) -> float:
    r"""The squared Fréchet distance (FID) of two Gaussians,

    $$\|\mu_1-\mu_2\|^2 + \operatorname{tr}(\Sigma_1+\Sigma_2)
    - 2\operatorname{tr}(\Sigma_1\Sigma_2)^{1/2}.$$

    $\operatorname{tr}(\Sigma_1\Sigma_2)^{1/2}$ is computed as the sum of the square
    roots of the eigenvalues of the symmetric matrix
    $\Sigma_1^{1/2}\Sigma_2\Sigma_1^{1/2}$, which has the same spectrum as
    $\Sigma_1\Sigma_2$ and no complex round-off.
    """
    mu1, mu2, cov1, cov2 = (
        torch.as_tensor(a, dtype=torch.float64) for a in (mu1, mu2, cov1, cov2)
    )
    s1 = _sqrtm_psd(cov1)
    middle = s1 @ cov2 @ s1
    tr_sqrt = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()
    return float(
        ((mu1 - mu2) ** 2).sum() + torch.trace(cov1) + torch.trace(cov2) - 2 * tr_sqrt
    )


# --8<-- [end:frechet_distance]


# --8<-- [start:digits_fid]
def digits_fid(
    images_a: torch.Tensor, images_b: torch.Tensor, model: nn.Module | None = None
) -> float:
    """The Fréchet distance between Gaussian fits of the features of two image sets."""
    check_images("images_a", images_a)
    check_images("images_b", images_b)
    model = _extractor(model)
    return frechet_distance(
        *gaussian_fit(features(images_a, model)),
        *gaussian_fit(features(images_b, model)),
    )


# --8<-- [end:digits_fid]


@torch.no_grad()
def classifier_accuracy(
    images: torch.Tensor, labels: torch.Tensor, model: nn.Module | None = None
) -> float:
    """Fraction of `images` that `model` (default: `digits-features`) assigns to
    `labels`.

    Images of another size than the model's (16x16 samples for the 8x8 classifier, say)
    are resized first. `labels` is `(N,)`, one integer class per image.
    """
    check_images("images", images)
    check_labels("labels", labels, len(images))
    model = _extractor(model)
    p = next(model.parameters())
    logits = torch.cat(
        [
            model(_fit(x, model).to(p.device, p.dtype).clamp(-1, 1))
            for x in images.split(1024)
        ]
    )
    return float((logits.argmax(-1).cpu() == labels.cpu()).double().mean())


__all__ = [
    "classifier_accuracy",
    "digits_fid",
    "features",
    "frechet_distance",
    "gaussian_fit",
]
