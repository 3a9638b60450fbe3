r"""`MMDiT`: the multimodal diffusion transformer of Stable Diffusion 3, in miniature.

A `DiT` reads the text through cross-attention: image tokens query, text tokens
only answer, and the text never changes. SD3's MMDiT (Esser et al., 2024, Sec. 4)
treats the two as one sequence with two sets of weights. Each block keeps a text
stream $c$ and an image stream $x$, each with its own adaLN-Zero modulation, LayerNorm,
$W_{QKV}$, output projection and MLP, and joins them in a single attention,

$$[x', c'] = \operatorname{softmax}\Big(
\frac{[Q_x; Q_c][K_x; K_c]^\top}{\sqrt{d_h}}\Big)[V_x; V_c],$$

so image tokens attend to words, words attend to image tokens, and both streams are
updated. The time embedding and the pooled caption modulate both streams. The last
block updates only the image stream (nothing reads the text after it).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .adm.nn import timestep_embedding
from .adm.unet import check_timesteps
from .dit import FinalLayer, embedders, modulate, unpatchify


class Stream(nn.Module):
    """One modality's weights in an MMDiT block: modulation, norms, qkv, out, MLP."""

    def __init__(self, hidden: int, mlp_ratio: float, pre_only: bool = False):
        super().__init__()
        self.pre_only = pre_only
        n_mod = 2 if pre_only else 6
        self.adaLN_modulation = nn.Sequential(
            nn.SiLU(), nn.Linear(hidden, n_mod * hidden)
        )
        nn.init.zeros_(self.adaLN_modulation[-1].weight)
        nn.init.zeros_(self.adaLN_modulation[-1].bias)
        self.norm1 = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
        self.qkv = nn.Linear(hidden, 3 * hidden)
        if not pre_only:
            self.proj = nn.Linear(hidden, hidden)
            self.norm2 = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
            width = int(hidden * mlp_ratio)
            self.mlp = nn.Sequential(
                nn.Linear(hidden, width), nn.GELU("tanh"), nn.Linear(width, hidden)
            )

    def pre(self, x, y):
        """Queries, keys, values of the modulated stream, and the rest of the
        modulation for `post`."""
        mod = self.adaLN_modulation(y).chunk(2 if self.pre_only else 6, dim=1)
        qkv = self.qkv(modulate(self.norm1(x), mod[0], mod[1]))
        return qkv, mod[2:]

    def post(self, x, attn_out, mod):
        gate1, shift2, scale2, gate2 = mod
        x = x + gate1[:, None] * self.proj(attn_out)
        return x + gate2[:, None] * self.mlp(modulate(self.norm2(x), shift2, scale2))


# --8<-- [start:joint_attention]
class MMDiTBlock(nn.Module):
    """Joint attention of image tokens `x` `(B, T, D)` and text tokens `c`
    `(B, L, D)`."""

    def __init__(self, hidden: int, heads: int, mlp_ratio=4.0, last=False):
        super().__init__()
        self.heads = heads
        self.x_stream = Stream(hidden, mlp_ratio)
        self.c_stream = Stream(hidden, mlp_ratio, pre_only=last)

    def forward(self, x, c, y):
        B, T, D = x.shape
        qkv_x, mod_x = self.x_stream.pre(x, y)  # (B, T, 3D)
        qkv_c, mod_c = self.c_stream.pre(c, y)  # (B, L, 3D)
        qkv = torch.cat([qkv_x, qkv_c], 1)  # one sequence: (B, T + L, 3D)
        q, k, v = qkv.reshape(B, -1, 3, self.heads, D // self.heads).permute(
            2, 0, 3, 1, 4
        )  # each (B, heads, T + L, D / heads)
        out = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).flatten(2)
        x = self.x_stream.post(x, out[:, :T], mod_x)
        if not self.c_stream.pre_only:
            c = self.c_stream.post(c, out[:, T:], mod_c)
        return x, c


# --8<-- [end:joint_attention]


class MMDiT(nn.Module):
    """A text-conditioned MMDiT: `model(z_t, t, context)`; arguments as `DiT`."""

    def __init__(
        self,
        in_channels: int = 4,
        sample_size: int = 8,
        patch_size: int = 2,
        hidden: int = 64,
        depth: int = 4,
        heads: int = 4,
        context_dim: int = 64,
        mlp_ratio: float = 4.0,
    ):
        super().__init__()
        embedders(self, in_channels, sample_size, patch_size, hidden, context_dim)
        self.depth, self.heads, self.mlp_ratio = depth, heads, mlp_ratio
        self.context_embedder = nn.Linear(context_dim, hidden)
        self.blocks = nn.ModuleList(
            MMDiTBlock(hidden, heads, mlp_ratio, last=i == depth - 1)
            for i in range(depth)
        )
        self.final_layer = FinalLayer(hidden, patch_size, in_channels)

    def forward(self, x, timesteps, context):
        """`x` `(B, C, H, W)`, `timesteps` `(B,)`, `context` `(B, L, d)`."""
        t = check_timesteps(x, timesteps)
        h = self.x_embedder(x).flatten(2).transpose(1, 2) + self.pos_embed
        y = self.t_embedder(timestep_embedding(t, self.hidden))
        y = y + self.pooled_embedder(context[:, 0])  # (B, hidden)
        c = self.context_embedder(context)  # (B, L, hidden)
        for block in self.blocks:
            h, c = block(h, c, y)
        return unpatchify(self.final_layer(h, y), self.patch_size, self.in_channels)


__all__ = ["MMDiT", "MMDiTBlock", "Stream"]
