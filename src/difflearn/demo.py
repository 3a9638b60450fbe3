"""What the demo notebooks share: where they run, a caption that says so, and image
grids.

Every demo notebook starts with `ENV = demo_env()`: quick mode when the tests run it
(`DIFFLEARN_QUICK=1`), CUDA when available, and a caption — device, torch and difflearn
versions — that `ENV.stamp(fig)` writes in the corner of each figure, so a picture on
the site says what made it.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass

import torch

from . import __version__


@dataclass(frozen=True)
class DemoEnv:
    """Where a demo runs: `quick` (small sizes for the tests), `device` and
    a `caption`.
    """

    quick: bool
    device: str
    caption: str

    def stamp(self, fig) -> None:
        """Write the caption in the lower right corner of a matplotlib figure."""
        fig.text(
            0.995,
            0.005,
            self.caption,
            ha="right",
            va="bottom",
            fontsize=7,
            color="gray",
        )


def demo_env(quick: bool | None = None, device: str | None = None) -> DemoEnv:
    """The environment of a demo; `quick` defaults to the `DIFFLEARN_QUICK` variable
    ("1" = quick).
    """
    if quick is None:
        quick = os.environ.get("DIFFLEARN_QUICK", "0") == "1"
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    name = (
        torch.cuda.get_device_name(0)
        if device.startswith("cuda")
        else f"CPU ({platform.machine()})"
    )
    caption = f"{name} · torch {torch.__version__} · difflearn {__version__}" + (
        " · quick mode" if quick else ""
    )
    return DemoEnv(quick=quick, device=device, caption=caption)


def show_grid(images: torch.Tensor, ax, ncol: int) -> None:
    """Tile `(B, 1, H, W)` images in [-1, 1] into one picture on the matplotlib axes
    `ax`.
    """
    x = images.detach().clamp(-1, 1).cpu()[:, 0]  # (B, H, W)
    B, H, W = x.shape
    nrow = (B + ncol - 1) // ncol
    canvas = torch.ones(nrow * (H + 1), ncol * (W + 1))
    for k in range(B):
        r, c = divmod(k, ncol)
        canvas[r * (H + 1) : r * (H + 1) + H, c * (W + 1) : c * (W + 1) + W] = x[k]
    ax.imshow(canvas, cmap="gray_r", vmin=-1, vmax=1)
    ax.axis("off")
