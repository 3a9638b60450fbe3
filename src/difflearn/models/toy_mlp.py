r"""A small MLP noise predictor $\hat\varepsilon_\theta(x_t, t)$ for 2-D toy data.

The 2-D data sets of `difflearn.toy` are small enough that a residual MLP learns
their noise prediction in a few seconds on a CPU, and 2-D samples can be drawn as
points and their sampling paths as lines. The network follows the recipe of the
image UNet at toy scale: the time input $t$ goes through the sinusoidal
embedding of `timestep_embedding` (Ho et al., 2020, sec. 4; Vaswani et al.,
2017) and a two-layer MLP, and that embedding is added to the hidden state
before every residual block.

The shipped weights `toy2d-mlp` (`difflearn.pretrained.load("toy2d-mlp")`) come from
`python -m tools.train_shipped --only toy2d-mlp`: `difflearn.training` with the
$\varepsilon$-prediction loss of DDPM (Ho et al., 2020, eq. 14) on the discrete linear
schedule ($N = 1000$), time inputs $n \in \{0, \dots, 999\}$ (the convention of
guided-diffusion, so `model_wrapper` calls it like any DDPM network). Its model card
says how long that took.
"""

from __future__ import annotations

import torch
from torch import nn

from .adm.nn import timestep_embedding


# --8<-- [start:toy_mlp]
class ToyMLP(nn.Module):
    r"""$\hat\varepsilon_\theta(x_t, t)$ for `dim`-D points:
    time embedding + residual MLP.

    Args:
        dim: data dimension $D$.
        hidden: width of the hidden layers.
        depth: number of residual blocks.
        emb_dim: width of the sinusoidal time embedding.
    """

    def __init__(
        self, dim: int = 2, hidden: int = 128, depth: int = 3, emb_dim: int = 64
    ):
        super().__init__()
        for name, v in [
            ("dim", dim),
            ("hidden", hidden),
            ("depth", depth),
            ("emb_dim", emb_dim),
        ]:
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an int >= 1, got {v!r}")
        self.config = dict(dim=dim, hidden=hidden, depth=depth, emb_dim=emb_dim)
        self.emb_dim = emb_dim
        self.time_embed = nn.Sequential(
            nn.Linear(emb_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden)
        )
        self.inp = nn.Linear(dim, hidden)
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.LayerNorm(hidden),
                nn.SiLU(),
                nn.Linear(hidden, hidden),
                nn.SiLU(),
                nn.Linear(hidden, hidden),
            )
            for _ in range(depth)
        )
        self.out = nn.Sequential(
            nn.LayerNorm(hidden), nn.SiLU(), nn.Linear(hidden, dim)
        )

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(t, device=x.device).expand(x.shape[0])
        emb = self.time_embed(timestep_embedding(t, self.emb_dim).to(x.dtype))  # (B, H)
        h = self.inp(x)  # (B, H)
        for block in self.blocks:
            h = h + block(h + emb)
        return self.out(h)  # (B, D)


# --8<-- [end:toy_mlp]
