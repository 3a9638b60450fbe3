"""`GlyphReader`: a small CNN that reads the five attributes of a glyph image.

It has two jobs, both on images it never generated. As a **judge** it reads the
glyph, colour, size, rotation and background of a sample, so that we can measure how
often a text-to-image model draws what its caption asked for (caption accuracy). As
a **feature map** its penultimate layer (128 numbers) stands in for Inception-v3 in
a Fréchet distance between generated and real glyphs
(`difflearn.glyph_metrics.glyph_fid`), as `DigitsFeatures` does for the digits. It
is trained on clean images (`python -m tools.train_shipped --only glyphs-reader`)
and shipped as `glyphs-reader`.
"""

from __future__ import annotations

import torch
from torch import nn

from ..data.glyphs import ATTRIBUTES, IMAGE_SIZE


# --8<-- [start:glyph_reader]
class GlyphReader(nn.Module):
    """Four 3x3 convolutions (three with stride 2: 32 -> 4 pixels), a linear layer
    to `feature_dim` features, and one linear head per attribute."""

    def __init__(self, width: int = 32, feature_dim: int = 128, dropout: float = 0.1):
        super().__init__()
        self.width, self.feature_dim, self.dropout = width, feature_dim, dropout
        self.image_size = IMAGE_SIZE
        self.conv = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1),
            nn.SiLU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1),  # 16x16
            nn.SiLU(),
            nn.Conv2d(2 * width, 2 * width, 3, stride=2, padding=1),  # 8x8
            nn.SiLU(),
            nn.Conv2d(2 * width, 2 * width, 3, stride=2, padding=1),  # 4x4
            nn.SiLU(),
        )
        self.fc = nn.Sequential(
            nn.Flatten(), nn.Linear(2 * width * 16, feature_dim), nn.SiLU()
        )
        self.heads = nn.ModuleDict(
            {k: nn.Linear(feature_dim, len(v)) for k, v in ATTRIBUTES.items()}
        )
        self.drop = nn.Dropout(dropout)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """`(B, 3, 32, 32)` images in [-1, 1] -> `(B, feature_dim)` features."""
        return self.fc(self.conv(x))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logits of every attribute: name -> `(B, number of values)`."""
        h = self.drop(self.features(x))
        return {k: head(h) for k, head in self.heads.items()}

    @torch.no_grad()
    def read(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The most likely value of every attribute: name -> `(B,)` indices."""
        return {k: v.argmax(-1) for k, v in self(x).items()}


# --8<-- [end:glyph_reader]


__all__ = ["GlyphReader"]
