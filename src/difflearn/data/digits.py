r"""scikit-learn's bundled handwritten digits, ready for a diffusion model.

The data set ships inside scikit-learn (`sklearn.datasets.load_digits`): 1,797
grey-scale images of the digits 0-9, 8x8 pixels with 17 intensity levels
(0-16). Nothing is downloaded. We scale the pixels to $[-1, 1]$, the range
a diffusion model's data lives in, so that $x_T \sim \mathcal N(0, I)$ and
$x_0$ have comparable scales.

**Why upsample to 16x16.** The ADM UNet halves the resolution at every level
and puts attention at the middle level; on 8x8 inputs a three-level UNet
ends at 2x2 pixels, where a 3x3 convolution sees mostly padding. At 16x16
the levels are 16, 8 and 4 pixels, with attention at 8x8, as in a (very)
small version of the ImageNet models. Bilinear interpolation is linear and a
convex combination of neighbouring pixels, so the upsampled images stay in
$[-1, 1]$ and keep smooth strokes (nearest-neighbour upsampling would give
blocky 2x2 tiles that the model would have to learn too). The upsampled data
still lie in a 64-dimensional linear subspace: it adds pixels, not information.

**Why the shipped models use 8x8.** A 16x16 UNet costs at least 2.4 times the
FLOPs of the same UNet at 8x8 (its 16x16 level alone is ~50 MFLOP per image
at the minimum width of 32 channels that `GroupNorm(32)` allows). The shipped
models (`difflearn.pretrained`) were trained on shared CPUs and must sample 64
digits at 10 model evaluations in under a second on a laptop CPU, so they work at
the native `size=8` (levels 8, 4, 2; attention at 4x4). `size=16` is there to
train a larger model on a GPU.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

NUM_CLASSES = 10
SIZES = (8, 16, 32)


# --8<-- [start:load_digits]
def load_digits(
    size: int = 8, dtype: torch.dtype = torch.float32
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The 1,797 digits as images in $[-1, 1]$ and their labels.

    Args:
        size: 8 (native, the default), 16 or 32 pixels; larger sizes are bilinear
            upsamplings.
        dtype: dtype of the images.

    Returns:
        `(images, labels)`: images `(1797, 1, size, size)`, labels `(1797,)`
            int64 in 0..9.
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    x0 = torch.as_tensor(bunch.images, dtype=torch.float64)[
        :, None
    ]  # (1797, 1, 8, 8), values 0..16
    x0 = x0 / 8.0 - 1.0  # [0, 16] -> [-1, 1]
    if size != 8:
        x0 = F.interpolate(x0, size=(size, size), mode="bilinear", align_corners=False)
    labels = torch.as_tensor(bunch.target, dtype=torch.int64)
    return x0.to(dtype), labels


# --8<-- [end:load_digits]


def split(
    n: int, fraction: float = 0.5, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded random split of `range(n)` into two disjoint index sets (first one
    `fraction` of n).
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction!r}")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    k = int(round(fraction * n))
    return perm[:k], perm[k:]


__all__ = ["NUM_CLASSES", "SIZES", "load_digits", "split"]
