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
        """Write the caption under the lower right corner of a matplotlib figure.

        It hangs below the figure (`va="top"` at y = 0), clear of the axes and their
        labels; Jupyter's inline backend saves with `bbox_inches="tight"`, which grows
        the image to include it.
        """
        fig.text(
            0.995, -0.01, self.caption, ha="right", va="top", fontsize=8, color="gray"
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


OFF_RANGE = 1.5  # a sample with a pixel beyond this has left the data range [-1, 1]


def show_grid(images: torch.Tensor, ax, ncol: int) -> int:
    """Tile `(B, 1, H, W)` images in [-1, 1] into one picture on the axes `ax`.

    Pixels are shown clamped to [-1, 1]. A sample with a pixel beyond `OFF_RANGE`
    would look like a solid white (or black) square; it gets a red frame and a note
    under the grid saying how many there are. With the shipped `digits-uncond` model
    this is about one sample in 400, at every NFE and with every solver tried
    (10-step DPM-Solver++ to 100-step DDIM, the same starting noise): the ODE from
    that noise ends far outside the data range (pixels near -6), a failure of the
    small model, not of the sampler. Returns the number of such samples.
    """
    from matplotlib.patches import Rectangle

    raw = images.detach().cpu()[:, 0]  # (B, H, W)
    x = raw.clamp(-1, 1)
    B, H, W = x.shape
    nrow = (B + ncol - 1) // ncol
    canvas = torch.ones(nrow * (H + 1), ncol * (W + 1))
    off = raw.flatten(1).abs().amax(1) > OFF_RANGE  # (B,)
    for k in range(B):
        r, c = divmod(k, ncol)
        canvas[r * (H + 1) : r * (H + 1) + H, c * (W + 1) : c * (W + 1) + W] = x[k]
    ax.imshow(canvas, cmap="gray_r", vmin=-1, vmax=1)
    ax.axis("off")
    for k in off.nonzero().flatten().tolist():
        r, c = divmod(k, ncol)
        ax.add_patch(
            Rectangle(
                (c * (W + 1) - 0.5, r * (H + 1) - 0.5),
                W,
                H,
                fill=False,
                edgecolor="#D55E00",
                lw=1.5,
            )
        )
    n = int(off.sum())
    if n:
        ax.text(
            0.5,
            -0.01,
            f"red: {n} of {B} off range",
            transform=ax.transAxes,
            ha="center",
            va="top",
            fontsize=8,
            color="#D55E00",
        )
    return n
