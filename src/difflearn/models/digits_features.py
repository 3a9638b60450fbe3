"""`DigitsFeatures`: the small clean-digits CNN whose features define the digits FID.

`difflearn.metrics` measures sample quality as a Fréchet distance between Gaussian
fits of this network's 64-dimensional penultimate features (see that module for why
not Inception). The trained weights ship as `digits-features`
(`difflearn.pretrained.load("digits-features")`).
"""

from __future__ import annotations

import torch
from torch import nn


# --8<-- [start:digits_features]
class DigitsFeatures(nn.Module):
    """A small CNN classifier of clean digits; `features(x)` is its 64-d penultimate
    layer.

    Three 3x3 convolutions (the last two with stride 2), a linear layer to
    `feature_dim` with SiLU, dropout, and a linear head to `num_classes` logits.
    """

    def __init__(
        self,
        image_size: int = 16,
        in_channels: int = 1,
        width: int = 32,
        feature_dim: int = 64,
        num_classes: int = 10,
        dropout: float = 0.2,
    ):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"image_size must be a multiple of 4, got {image_size!r}")
        self.image_size = image_size
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1),
            nn.SiLU(),
            nn.Conv2d(width, width, 3, stride=2, padding=1),
            nn.SiLU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1),
            nn.SiLU(),
        )
        self.fc = nn.Sequential(
            nn.Flatten(),
            nn.Linear(2 * width * (image_size // 4) ** 2, feature_dim),
            nn.SiLU(),
        )
        self.head = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(feature_dim, num_classes)
        )

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """`(B, 1, H, W)` images in [-1, 1] -> `(B, feature_dim)` features."""
        return self.fc(self.conv(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


# --8<-- [end:digits_features]
