r"""`DiT`: the diffusion transformer of Peebles & Xie (2023), text-conditioned.

A DiT replaces the UNet by a plain transformer over patches:

1. **patchify**: cut the latent `(B, C, H, W)` into $T = (H/p)(W/p)$ patches of
   $p \times p$ pixels, embed each linearly (a convolution with kernel and stride
   $p$) and add a fixed 2-D sine-cosine position code;
2. **transformer blocks**, each conditioned by **adaLN-Zero**: a vector $c$ (time
   embedding plus pooled caption) regresses a shift $\beta$, a scale $\gamma$ and a
   gate $\alpha$ for each of the two residual branches (the update below), with the
   regression initialised at zero, so every block starts as the identity (the
   "Zero"; Peebles & Xie, Sec. 3.2, found it best of their conditioning schemes). For
   the words themselves each block also cross-attends to the text tokens, as
   PixArt-alpha does (Chen et al., 2024);
3. **final layer**: one more adaptive LayerNorm, a linear map from each token to
   its $p \times p \times C$ output pixels (zero-initialised), and **unpatchify**.

A block's two residual branches:

$$x \leftarrow x + \alpha_1 \odot \mathrm{Attn}\big(\mathrm{LN}(x)(1 + \gamma_1)
+ \beta_1\big), \qquad x \leftarrow x + \alpha_2 \odot \mathrm{MLP}\big(
\mathrm{LN}(x)(1 + \gamma_2) + \beta_2\big).$$
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .adm.nn import timestep_embedding
from .adm.unet import check_timesteps
from .cross_attention import Attention


# --8<-- [start:patchify]
def sincos_2d(dim: int, grid: int) -> torch.Tensor:
    r"""Fixed position code `(grid * grid, dim)`: half the channels encode the row,
    half the column, each as $[\sin(\omega_k i), \cos(\omega_k i)]$,
    $\omega_k = 10000^{-k/(d/4)}$."""
    if dim % 4:
        raise ValueError(f"dim must be a multiple of 4, got {dim!r}")
    omega = 1.0 / 10000 ** (torch.arange(dim // 4, dtype=torch.float64) / (dim // 4))
    pos = torch.arange(grid, dtype=torch.float64)
    angle = pos[:, None] * omega[None]  # (grid, dim/4)
    code = torch.cat([angle.sin(), angle.cos()], 1)  # (grid, dim/2)
    rows = code[:, None, :].expand(grid, grid, -1)
    cols = code[None, :, :].expand(grid, grid, -1)
    return torch.cat([rows, cols], -1).reshape(grid * grid, dim).float()


def unpatchify(tokens: torch.Tensor, p: int, channels: int) -> torch.Tensor:
    r"""`(B, T, p * p * C)` -> `(B, C, H, W)` with $H = W = p\sqrt T$."""
    B, T, _ = tokens.shape
    g = math.isqrt(T)
    x = tokens.reshape(B, g, g, p, p, channels)  # (B, rows, cols, p, p, C)
    return x.permute(0, 5, 1, 3, 2, 4).reshape(B, channels, g * p, g * p)


# --8<-- [end:patchify]


# --8<-- [start:modulate]
def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor):
    r"""$x(1 + \gamma) + \beta$ with one $\gamma, \beta$ per sample, `(B, D)`."""
    return x * (1 + scale[:, None]) + shift[:, None]


# --8<-- [end:modulate]


# --8<-- [start:dit_block]
class DiTBlock(nn.Module):
    """Self-attention and MLP under adaLN-Zero, with cross-attention to the text."""

    def __init__(self, hidden: int, heads: int, context_dim: int, mlp_ratio=4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(hidden, heads)
        self.norm_cross = nn.LayerNorm(hidden, eps=1e-6)
        self.cross_attn = Attention(hidden, heads, context_dim)
        self.norm2 = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
        width = int(hidden * mlp_ratio)
        self.mlp = nn.Sequential(
            nn.Linear(hidden, width), nn.GELU("tanh"), nn.Linear(width, hidden)
        )
        # c -> (shift, scale, gate) for attention and for the MLP
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden, 6 * hidden))

    def forward(self, x, c, context):
        shift1, scale1, gate1, shift2, scale2, gate2 = self.adaLN_modulation(c).chunk(
            6, dim=1
        )  # six (B, hidden)
        x = x + gate1[:, None] * self.attn(modulate(self.norm1(x), shift1, scale1))
        x = x + self.cross_attn(self.norm_cross(x), context)
        h = modulate(self.norm2(x), shift2, scale2)
        return x + gate2[:, None] * self.mlp(h)


# --8<-- [end:dit_block]


class FinalLayer(nn.Module):
    """adaLN (shift and scale only), then a linear map to `p * p * C` per token."""

    def __init__(self, hidden: int, patch_size: int, out_channels: int):
        super().__init__()
        self.norm_final = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden, 2 * hidden))
        self.linear = nn.Linear(hidden, patch_size * patch_size * out_channels)
        for layer in (self.adaLN_modulation[-1], self.linear):  # a fresh model: 0
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x, c):
        shift, scale = self.adaLN_modulation(c).chunk(2, dim=1)
        return self.linear(modulate(self.norm_final(x), shift, scale))


def embedders(
    model: nn.Module,
    in_channels: int,
    sample_size: int,
    patch_size: int,
    hidden: int,
    context_dim: int,
) -> None:
    """Give `model` what DiT and MMDiT share: the patch embedding, the fixed position
    code, the time embedding and the pooled-caption projection (and their sizes)."""
    if sample_size % patch_size:
        raise ValueError(
            f"sample_size={sample_size} must be a multiple of patch_size={patch_size}"
        )
    model.in_channels, model.sample_size, model.patch_size = (
        in_channels,
        sample_size,
        patch_size,
    )
    model.hidden, model.context_dim = hidden, context_dim
    model.x_embedder = nn.Conv2d(in_channels, hidden, patch_size, stride=patch_size)
    grid = sample_size // patch_size
    model.register_buffer("pos_embed", sincos_2d(hidden, grid), persistent=False)
    model.t_embedder = nn.Sequential(
        nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden)
    )
    model.pooled_embedder = nn.Linear(context_dim, hidden)


class DiT(nn.Module):
    """A text-conditioned DiT: `model(z_t, t, context)` -> noise (or velocity).

    Args:
        in_channels: latent channels (4).
        sample_size: the latent side (8).
        patch_size: $p$; the model sees `(sample_size / p) ** 2` tokens.
        hidden: token width.
        depth: number of `DiTBlock`s.
        heads: attention heads.
        context_dim: width of the text context; its `<start>` token, projected,
            is added to the time embedding as the pooled caption.
        mlp_ratio: MLP width / hidden.
    """

    def __init__(
        self,
        in_channels: int = 4,
        sample_size: int = 8,
        patch_size: int = 2,
        hidden: int = 96,
        depth: int = 4,
        heads: int = 4,
        context_dim: int = 64,
        mlp_ratio: float = 4.0,
    ):
        super().__init__()
        embedders(self, in_channels, sample_size, patch_size, hidden, context_dim)
        self.depth, self.heads, self.mlp_ratio = depth, heads, mlp_ratio
        self.blocks = nn.ModuleList(
            DiTBlock(hidden, heads, context_dim, mlp_ratio) for _ in range(depth)
        )
        self.final_layer = FinalLayer(hidden, patch_size, in_channels)
        self._init_weights()

    def _init_weights(self):
        """Xavier-uniform linear layers; then zero every layer whose output is added
        to the residual stream unscaled (the modulations, the cross-attention output,
        the final layer), so that a fresh DiT outputs zero and every fresh block is
        the identity."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        zero = [self.final_layer.adaLN_modulation[-1], self.final_layer.linear]
        for block in self.blocks:
            zero += [block.adaLN_modulation[-1], block.cross_attn.to_out[0]]
        for layer in zero:
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    # --8<-- [start:dit_forward]
    def forward(
        self, x: torch.Tensor, timesteps: torch.Tensor, context: torch.Tensor
    ) -> torch.Tensor:
        """`x` `(B, C, H, W)`, `timesteps` `(B,)`, `context` `(B, L, d)`."""
        t = check_timesteps(x, timesteps)
        h = self.x_embedder(x).flatten(2).transpose(1, 2)  # patchify: (B, T, hidden)
        h = h + self.pos_embed
        c = self.t_embedder(timestep_embedding(t, self.hidden))  # (B, hidden)
        c = c + self.pooled_embedder(context[:, 0])  # + the pooled caption
        for block in self.blocks:
            h = block(h, c, context)
        h = self.final_layer(h, c)  # (B, T, p * p * C)
        return unpatchify(h, self.patch_size, self.in_channels)

    # --8<-- [end:dit_forward]


__all__ = [
    "DiT",
    "DiTBlock",
    "FinalLayer",
    "embedders",
    "modulate",
    "sincos_2d",
    "unpatchify",
]
