"""A shared panel: sampling paths of 2-D points over the data cloud."""

import numpy as np


def paths_panel(ax, paths: np.ndarray, data: np.ndarray, color, title: str, n_paths: int | None = None,
                lim: float = 3.2) -> None:
    """Draw `paths` (states, B, 2) over `data` (M, 2): lines for the first `n_paths` points
    (all by default), the last state of every point in black."""
    ax.scatter(data[:, 0], data[:, 1], s=1, color="lightgrey")
    for b in range(paths.shape[1] if n_paths is None else n_paths):
        ax.plot(paths[:, b, 0], paths[:, b, 1], color=color, lw=0.7, alpha=0.75)
    ax.scatter(paths[-1, :, 0], paths[-1, :, 1], s=7, color="black", zorder=3)
    ax.set_title(title)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
