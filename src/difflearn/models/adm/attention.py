r"""Self-attention of the ADM UNet, in both of guided-diffusion's head orders.

A `1x1` convolution maps the $C$ channels of every position to $3C$ numbers.
How those $3C$ numbers are cut into queries, keys and values of $H$ heads is
the only difference between the two orders:

* **legacy** (`QKVAttentionLegacy`, the default, `use_new_attention_order=False`):
  heads first, then q/k/v: the $3C$ axis reads $(H, 3, C/H)$;
* **new** (`QKVAttention`, `use_new_attention_order=True`): q/k/v first, then
  heads: the $3C$ axis reads $(3, H, C/H)$.

Per head, with $d = C/H$, both compute

$$\operatorname{Attn}(Q, K, V)
= \operatorname{softmax}\!\Big(\frac{Q K^\top}{\sqrt d}\Big) V .$$

The two orders give different functions of the same weights, so a checkpoint
must be run with the order it was trained with. Both go through
`torch.nn.functional.scaled_dot_product_attention` (fused kernels on GPU);
`backend="einsum"` selects a plain einsum path written like the original, kept as
the reference the `"sdpa"` path is tested against.
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from .nn import conv_nd, normalization, zero_module

ORDERS = ("legacy", "new")
BACKENDS = ("sdpa", "einsum")


# --8<-- [start:split_heads]
def split_qkv(qkv: torch.Tensor, num_heads: int, order: str):
    """Cut a token-major `(B, T, 3C)` tensor into `(B, H, T, d)` q, k, v.

    `order="legacy"` reads the last axis as `(H, 3, d)`, `order="new"` as
    `(3, H, d)`. Only views: no data is copied.
    """
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    B, T, width = qkv.shape
    if width % (3 * num_heads):
        raise ValueError(
            f"qkv width {width} is not divisible by 3 * num_heads = {3 * num_heads}"
        )
    d = width // (3 * num_heads)
    if order == "legacy":
        qkv = qkv.view(B, T, num_heads, 3, d).permute(3, 0, 2, 1, 4)  # (3, B, H, T, d)
    else:
        qkv = qkv.view(B, T, 3, num_heads, d).permute(2, 0, 3, 1, 4)  # (3, B, H, T, d)
    return qkv[0], qkv[1], qkv[2]


# --8<-- [end:split_heads]


# --8<-- [start:attention_core]
def attention_tokens(
    qkv: torch.Tensor, num_heads: int, order: str, backend: str = "sdpa"
) -> torch.Tensor:
    """Multi-head attention on a token-major `(B, T, 3C)` tensor -> `(B, T, C)`.

    `backend="sdpa"`: `scaled_dot_product_attention`; `"einsum"`: the original's
    arithmetic.
    """
    q, k, v = split_qkv(qkv, num_heads, order)  # (B, H, T, d) each
    B, H, T, d = q.shape
    if backend == "sdpa":
        a = F.scaled_dot_product_attention(q, k, v)  # (B, H, T, d)
    else:
        # the original's form: scale q and k by d^(-1/4) each, softmax in float32
        s = 1.0 / math.sqrt(math.sqrt(d))
        w = torch.einsum("bhtd,bhsd->bhts", q * s, k * s)
        w = torch.softmax(w.float(), dim=-1).to(w.dtype)
        a = torch.einsum("bhts,bhsd->bhtd", w, v)
    return a.transpose(1, 2).reshape(B, T, H * d)


# --8<-- [end:attention_core]


class _QKVAttentionBase(nn.Module):
    order = "legacy"

    def __init__(self, n_heads: int, backend: str = "sdpa", fast: bool | None = None):
        super().__init__()
        if fast is not None:
            warnings.warn(
                "QKVAttention(fast=...) is deprecated: pass backend='sdpa' or 'einsum'",
                DeprecationWarning,
                stacklevel=2,
            )
            backend = "sdpa" if fast else "einsum"
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self.n_heads = n_heads
        self.backend = backend

    def forward(self, qkv: torch.Tensor) -> torch.Tensor:
        """Channel-major `(B, 3C, T)` -> `(B, C, T)`, the original's interface."""
        out = attention_tokens(
            qkv.transpose(1, 2), self.n_heads, self.order, self.backend
        )
        return out.transpose(1, 2)


class QKVAttentionLegacy(_QKVAttentionBase):
    """Heads split before q/k/v: the `3C` axis reads `(H, 3, d)`."""

    order = "legacy"


class QKVAttention(_QKVAttentionBase):
    """q/k/v split before heads: the `3C` axis reads `(3, H, d)`."""

    order = "new"


# --8<-- [start:attention_block]
class AttentionBlock(nn.Module):
    r"""Residual self-attention over all positions of a feature map.

    $$h = x + W_\text{out}\,\operatorname{Attn}(W_{qkv}\,\operatorname{GN}(x)),$$

    with $W_\text{out}$ zero-initialised, so the block starts as the identity.
    `num_head_channels` (if not -1) fixes the head width $d$ and overrides
    `num_heads`.
    """

    def __init__(
        self,
        channels,
        num_heads=1,
        num_head_channels=-1,
        use_checkpoint=False,
        use_new_attention_order=False,
    ):
        super().__init__()
        self.channels = channels
        if num_head_channels == -1:
            self.num_heads = num_heads
        else:
            if channels % num_head_channels:
                raise ValueError(
                    f"channels {channels} is not divisible by num_head_channels "
                    f"{num_head_channels}"
                )
            self.num_heads = channels // num_head_channels
        self.use_checkpoint = use_checkpoint
        self.norm = normalization(channels)
        self.qkv = conv_nd(1, channels, channels * 3, 1)  # weight (3C, C, 1)
        attention = QKVAttention if use_new_attention_order else QKVAttentionLegacy
        self.attention = attention(self.num_heads)
        self.proj_out = zero_module(conv_nd(1, channels, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_checkpoint and torch.is_grad_enabled():
            return torch.utils.checkpoint.checkpoint(
                self._forward, x, use_reentrant=False
            )
        return self._forward(x)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, *spatial = x.shape
        x = x.reshape(B, C, -1)  # (B, C, T)
        h = self.norm(x)
        if (
            self.attention.backend == "einsum"
        ):  # the reference path, channel-major like the original
            h = self.proj_out(self.attention(self.qkv(h)))
            return (x + h).reshape(B, C, *spatial)
        # sdpa path: token-major, so q, k, v are views with unit stride in d
        qkv = F.linear(
            h.transpose(1, 2), self.qkv.weight[:, :, 0], self.qkv.bias
        )  # (B, T, 3C)
        a = attention_tokens(
            qkv, self.num_heads, self.attention.order, "sdpa"
        )  # (B, T, C)
        h = F.linear(a, self.proj_out.weight[:, :, 0], self.proj_out.bias)  # (B, T, C)
        return (x + h.transpose(1, 2)).reshape(B, C, *spatial)


# --8<-- [end:attention_block]


# --8<-- [start:attention_pool]
class AttentionPool2d(nn.Module):
    """Attention pooling of the classifier head (the pooling of CLIP's ResNets).

    The mean of all positions is prepended as an extra token, a learned
    positional embedding is added, and the output at that token, after one
    attention layer (new head order) and a projection, is the pooled vector.
    """

    def __init__(
        self, spacial_dim: int, embed_dim: int, num_heads_channels: int, output_dim=None
    ):
        super().__init__()
        self.positional_embedding = nn.Parameter(
            torch.randn(embed_dim, spacial_dim**2 + 1) / embed_dim**0.5
        )  # (C, T + 1)
        self.qkv_proj = conv_nd(1, embed_dim, 3 * embed_dim, 1)
        self.c_proj = conv_nd(1, embed_dim, output_dim or embed_dim, 1)
        self.num_heads = embed_dim // num_heads_channels
        self.attention = QKVAttention(self.num_heads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, *_ = x.shape
        x = x.reshape(B, C, -1)  # (B, C, T)
        x = torch.cat([x.mean(dim=-1, keepdim=True), x], dim=-1)  # (B, C, T + 1)
        x = x + self.positional_embedding[None].to(x.dtype)
        x = self.c_proj(self.attention(self.qkv_proj(x)))  # (B, out, T + 1)
        return x[:, :, 0]


# --8<-- [end:attention_pool]


def set_attention_backend(model: nn.Module, backend: str) -> nn.Module:
    """Switch every attention layer of `model` to `"sdpa"` or `"einsum"`."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    for m in model.modules():
        if isinstance(m, _QKVAttentionBase):
            m.backend = backend
    return model
