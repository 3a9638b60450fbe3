r"""`LatentUNet`: the ADM UNet with cross-attention to text, for latents.

This is the shape of Stable Diffusion's `UNet2DConditionModel` at a toy scale: the
residual blocks, resampling layers and time embedding of the ADM UNet
(`difflearn.models.adm`, reused as they are), with every attention block replaced by
a `SpatialTransformer` (self-attention, cross-attention to the text context $c$, MLP).
The time enters every residual block through AdaGN; the text enters only through
cross-attention, as in SD 1.x and 2.x. The network predicts the noise
$\hat\varepsilon_\theta(z_t, t, c)$ of a latent $z_t$ `(B, 4, 8, 8)`.
"""

from __future__ import annotations

import torch
from torch import nn

from .adm.blocks import Downsample, ResBlock, Upsample
from .adm.nn import normalization, timestep_embedding, zero_module
from .adm.unet import check_timesteps
from .cross_attention import SpatialTransformer


class CondSequential(nn.ModuleList):
    """Layers that take `(h, emb)` (residual blocks), `(h, context)`
    (transformers) or `h` alone."""

    def forward(self, h, emb, context):
        for layer in self:
            if isinstance(layer, ResBlock):
                h = layer(h, emb)
            elif isinstance(layer, SpatialTransformer):
                h = layer(h, context)
            else:
                h = layer(h)
        return h


class LatentUNet(nn.Module):
    """A text-conditioned UNet: `model(z_t, t, context)` -> noise (or velocity).

    Args:
        in_channels: latent channels (4).
        model_channels: base width; level `i` has `channel_mult[i] * model_channels`.
        channel_mult: width multiplier of each level (one downsampling between levels).
        num_res_blocks: residual blocks per level on the way down (one more up).
        attention_levels: the levels (0 = full latent resolution) with a
            `SpatialTransformer` after each residual block; the middle always has one.
        heads: attention heads.
        context_dim: width $d$ of the text context.
        sample_size: the latent side (stored; the network is convolutional).
    """

    # --8<-- [start:latent_unet_init]
    def __init__(
        self,
        in_channels: int = 4,
        model_channels: int = 64,
        channel_mult: tuple[int, ...] = (1, 2),
        num_res_blocks: int = 1,
        attention_levels: tuple[int, ...] = (0, 1),
        heads: int = 4,
        context_dim: int = 64,
        sample_size: int = 8,
    ):
        super().__init__()
        self.in_channels, self.model_channels = in_channels, model_channels
        self.channel_mult, self.num_res_blocks = tuple(channel_mult), num_res_blocks
        self.attention_levels, self.heads = tuple(attention_levels), heads
        self.context_dim, self.sample_size = context_dim, sample_size
        emb_dim = 4 * model_channels
        self.time_embed = nn.Sequential(
            nn.Linear(model_channels, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim)
        )

        def res(c_in, c_out):
            return ResBlock(c_in, emb_dim, 0.0, c_out, use_scale_shift_norm=True)

        def xattn(c):
            return SpatialTransformer(c, heads, context_dim)

        ch = model_channels * channel_mult[0]
        self.conv_in = nn.Conv2d(in_channels, ch, 3, padding=1)
        self.down, skips = nn.ModuleList(), [ch]
        for level, mult in enumerate(channel_mult):
            for _ in range(num_res_blocks):
                layers = [res(ch, mult * model_channels)]
                ch = mult * model_channels
                if level in attention_levels:
                    layers.append(xattn(ch))
                self.down.append(CondSequential(layers))
                skips.append(ch)
            if level < len(channel_mult) - 1:
                self.down.append(CondSequential([Downsample(ch, True, 2, ch)]))
                skips.append(ch)
        self.mid = CondSequential([res(ch, ch), xattn(ch), res(ch, ch)])
        self.up = nn.ModuleList()
        for level, mult in reversed(list(enumerate(channel_mult))):
            for i in range(num_res_blocks + 1):
                layers = [res(ch + skips.pop(), mult * model_channels)]
                ch = mult * model_channels
                if level in attention_levels:
                    layers.append(xattn(ch))
                if level and i == num_res_blocks:
                    layers.append(Upsample(ch, True, 2, ch))
                self.up.append(CondSequential(layers))
        self.out = nn.Sequential(
            normalization(ch),
            nn.SiLU(),
            zero_module(nn.Conv2d(ch, in_channels, 3, padding=1)),
        )

    # --8<-- [end:latent_unet_init]

    # --8<-- [start:latent_unet_forward]
    def forward(
        self, x: torch.Tensor, timesteps: torch.Tensor, context: torch.Tensor
    ) -> torch.Tensor:
        """`x` `(B, 4, h, w)`, `timesteps` `(B,)`, `context` `(B, L, d)`."""
        t = check_timesteps(x, timesteps)
        if context.dim() != 3 or context.shape[0] != x.shape[0]:
            raise ValueError(
                f"context must have shape ({x.shape[0]}, L, {self.context_dim}), "
                f"got {tuple(context.shape)}"
            )
        emb = self.time_embed(timestep_embedding(t, self.model_channels))  # (B, 4C)
        h = self.conv_in(x)
        skips = [h]
        for block in self.down:
            h = block(h, emb, context)
            skips.append(h)
        h = self.mid(h, emb, context)
        for block in self.up:
            h = block(torch.cat([h, skips.pop()], dim=1), emb, context)
        return self.out(h)

    # --8<-- [end:latent_unet_forward]


__all__ = ["CondSequential", "LatentUNet"]
