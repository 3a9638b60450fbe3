r"""2-D point clouds for pictures: two moons, a swiss roll and a checkerboard.

They have no closed-form score (unlike `difflearn.data.mixture.GaussianMixture`); the
shipped `toy2d-mlp` model learns the checkerboard, and the 2-D demos draw its samples
and sampling paths.
"""

from __future__ import annotations

import math

import torch


# --8<-- [start:datasets]
def moons(n: int, generator=None, noise: float = 0.05) -> torch.Tensor:
    """Two interleaving half circles (n, 2), centred and scaled to about unit spread."""
    m = n // 2
    u = torch.rand(n, generator=generator, dtype=torch.float64) * math.pi
    upper = torch.arange(n) < m
    x = torch.where(upper, torch.cos(u), 1 - torch.cos(u))
    y = torch.where(upper, torch.sin(u), 0.5 - torch.sin(u))
    pts = torch.stack([x, y], 1) + noise * torch.randn(
        n, 2, generator=generator, dtype=torch.float64
    )
    return (pts - torch.tensor([0.5, 0.25], dtype=torch.float64)) / 0.75


def swiss_roll(n: int, generator=None, noise: float = 0.05) -> torch.Tensor:
    r"""A 2-D spiral $r = \theta$ for $\theta \in [1.5\pi, 4.5\pi]$ (n, 2), scaled to
    about unit spread.
    """
    theta = (
        1.5
        * math.pi
        * (1 + 2 * torch.rand(n, generator=generator, dtype=torch.float64))
    )
    pts = torch.stack([theta * torch.cos(theta), theta * torch.sin(theta)], 1) / 7.0
    return pts + noise * torch.randn(n, 2, generator=generator, dtype=torch.float64)


def checkerboard(n: int, generator=None, squares: int = 4) -> torch.Tensor:
    """Uniform on the dark squares of a `squares` x `squares` board
    on [-2, 2]^2 (n, 2).
    """
    cell = torch.randint(0, squares * squares // 2, (n,), generator=generator)
    row = cell // (squares // 2)
    col = 2 * (cell % (squares // 2)) + row % 2  # dark squares: (row + col) even
    u = torch.rand(n, 2, generator=generator, dtype=torch.float64)
    size = 4.0 / squares
    return torch.stack([col + u[:, 0], row + u[:, 1]], 1) * size - 2.0


# --8<-- [end:datasets]
