r"""Cross-attention: how the image features of a denoiser read the text.

In self-attention the queries, keys and values all come from the image features. In
cross-attention (Vaswani et al., 2017; for diffusion, Rombach et al., 2022, Sec. 3.3)
the queries come from the $N = hw$ image positions $\varphi \in \mathbb R^{N \times C}$
and the keys and values from the $L$ text tokens $c \in \mathbb R^{L \times d}$:

$$\operatorname{CrossAttn}(\varphi, c) = \operatorname{softmax}
\Big(\frac{(\varphi W_Q)(c W_K)^\top}{\sqrt{d_h}}\Big)\, c W_V, \qquad
W_Q \in \mathbb R^{C \times C},\ W_K, W_V \in \mathbb R^{d \times C},$$

per head of width $d_h$, so every position takes a weighted average of the words it
finds relevant. Stable Diffusion's `SpatialTransformer` wraps it in a small
transformer over the positions (self-attention, cross-attention, MLP, each pre-norm
and residual), entered and left by 1x1 projections; the output projection starts at
zero, so a fresh block is the identity. `TransformerBlock` and `SpatialTransformer`
here are that design, with the same parameter names as diffusers'
`BasicTransformerBlock` / `Transformer2DModel` (`attn1`, `attn2`, `ff`, `norm1..3`,
`proj_in`, `proj_out`), with a GELU MLP instead of GEGLU.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


# --8<-- [start:cross_attention]
class Attention(nn.Module):
    """Multi-head attention of `x` `(B, N, C)` to `context` `(B, L, d)` (to `x`
    itself when `context` is None)."""

    def __init__(self, dim: int, heads: int, context_dim: int | None = None):
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim={dim} must be a multiple of heads={heads}")
        self.heads = heads
        context_dim = context_dim or dim
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(context_dim, dim, bias=False)
        self.to_v = nn.Linear(context_dim, dim, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim)])

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None):
        context = x if context is None else context
        B, N, C = x.shape

        def heads(h):  # (B, n, C) -> (B, heads, n, C / heads)
            return h.reshape(B, -1, self.heads, C // self.heads).transpose(1, 2)

        q, k, v = (
            heads(self.to_q(x)),
            heads(self.to_k(context)),
            heads(self.to_v(context)),
        )
        h = F.scaled_dot_product_attention(q, k, v)  # (B, heads, N, C / heads)
        return self.to_out[0](h.transpose(1, 2).reshape(B, N, C))


# --8<-- [end:cross_attention]


# --8<-- [start:transformer_block]
class TransformerBlock(nn.Module):
    r"""$x \leftarrow x + \mathrm{SelfAttn}(\mathrm{LN}(x))$, then
    $x + \mathrm{CrossAttn}(\mathrm{LN}(x), c)$, then
    $x + \mathrm{MLP}(\mathrm{LN}(x))$.
    """

    def __init__(self, dim: int, heads: int, context_dim: int):
        super().__init__()
        self.norm1, self.attn1 = nn.LayerNorm(dim), Attention(dim, heads)
        self.norm2, self.attn2 = nn.LayerNorm(dim), Attention(dim, heads, context_dim)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(
            nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim)
        )

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        x = x + self.attn1(self.norm1(x))  # positions talk to each other
        x = x + self.attn2(self.norm2(x), context)  # positions read the text
        return x + self.ff(self.norm3(x))


# --8<-- [end:transformer_block]


# --8<-- [start:spatial_transformer]
class SpatialTransformer(nn.Module):
    """A `TransformerBlock` over the $h \\times w$ positions of a feature map
    `(B, C, h, w)`, conditioned on `context` `(B, L, d)`; residual, zero at init."""

    def __init__(self, channels: int, heads: int, context_dim: int, groups: int = 32):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels, eps=1e-6)
        self.proj_in = nn.Linear(channels, channels)
        self.transformer_blocks = nn.ModuleList(
            [TransformerBlock(channels, heads, context_dim)]
        )
        self.proj_out = nn.Linear(channels, channels)
        nn.init.zeros_(self.proj_out.weight)
        nn.init.zeros_(self.proj_out.bias)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        h = self.norm(x).flatten(2).transpose(1, 2)  # (B, HW, C)
        h = self.proj_in(h)
        for block in self.transformer_blocks:
            h = block(h, context)
        h = self.proj_out(h).transpose(1, 2).reshape(B, C, H, W)
        return x + h


# --8<-- [end:spatial_transformer]


__all__ = ["Attention", "SpatialTransformer", "TransformerBlock"]
