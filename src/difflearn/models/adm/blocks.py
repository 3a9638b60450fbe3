r"""Residual blocks and resampling layers of the ADM UNet.

The module and parameter names match guided-diffusion's `unet.py`
(`in_layers`, `emb_layers`, `out_layers`, `skip_connection`, `op`, `conv`), so
the state-dict keys of a whole model are the same.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .nn import avg_pool_nd, conv_nd, normalization, zero_module


class TimestepBlock(nn.Module):
    """A module whose `forward(x, emb)` also takes the time embedding."""

    def forward(
        self, x: torch.Tensor, emb: torch.Tensor
    ) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError


class TimestepEmbedSequential(nn.Sequential, TimestepBlock):
    """`nn.Sequential` that hands `emb` to the children that take it."""

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        for layer in self:
            x = layer(x, emb) if isinstance(layer, TimestepBlock) else layer(x)
        return x


# --8<-- [start:resample]
class Upsample(nn.Module):
    """Nearest-neighbour 2x upsampling, then an optional 3x3 convolution.

    For `dims=3` only the last two axes are upsampled.
    """

    def __init__(self, channels, use_conv, dims=2, out_channels=None):
        super().__init__()
        self.channels = channels
        self.out_channels = out_channels or channels
        self.use_conv = use_conv
        self.dims = dims
        if use_conv:
            self.conv = conv_nd(dims, self.channels, self.out_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.dims == 3:
            x = F.interpolate(
                x, (x.shape[2], x.shape[3] * 2, x.shape[4] * 2), mode="nearest"
            )
        else:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.conv(x) if self.use_conv else x


class Downsample(nn.Module):
    """2x downsampling: a stride-2 3x3 convolution, or 2x2 average pooling."""

    def __init__(self, channels, use_conv, dims=2, out_channels=None):
        super().__init__()
        self.channels = channels
        self.out_channels = out_channels or channels
        self.use_conv = use_conv
        self.dims = dims
        stride = 2 if dims != 3 else (1, 2, 2)
        if use_conv:
            self.op = conv_nd(
                dims, self.channels, self.out_channels, 3, stride=stride, padding=1
            )
        else:
            if self.channels != self.out_channels:
                raise ValueError(
                    f"pooling cannot change channels: {channels} -> {out_channels}"
                )
            self.op = avg_pool_nd(dims, kernel_size=stride, stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


# --8<-- [end:resample]


class ResBlock(TimestepBlock):
    r"""Residual block conditioned on the time (and class) embedding.

    $$h = \text{conv}_1(\text{SiLU}(\text{GN}(x))), \qquad
    [s, b] = W e + c, \qquad
    \text{out} = \text{skip}(x)
    + \text{conv}_2\big(\text{SiLU}(\text{GN}(h)(1 + s) + b)\big)$$

    with scale-shift norm (AdaGN, `use_scale_shift_norm=True`, Dhariwal &
    Nichol 2021, Sec. 3), or $\text{conv}_2(\text{SiLU}(\text{GN}(h + We + c)))$
    without it. `up`/`down` resample inside the block (BigGAN style,
    `resblock_updown=True`). `conv_2` is zero-initialised.
    """

    # --8<-- [start:resblock_init]
    def __init__(
        self,
        channels,
        emb_channels,
        dropout,
        out_channels=None,
        use_conv=False,
        use_scale_shift_norm=False,
        dims=2,
        use_checkpoint=False,
        up=False,
        down=False,
    ):
        super().__init__()
        self.channels = channels
        self.emb_channels = emb_channels
        self.dropout = dropout
        self.out_channels = out_channels or channels
        self.use_conv = use_conv
        self.use_checkpoint = use_checkpoint
        self.use_scale_shift_norm = use_scale_shift_norm

        self.in_layers = nn.Sequential(
            normalization(channels),
            nn.SiLU(),
            conv_nd(dims, channels, self.out_channels, 3, padding=1),
        )
        self.updown = up or down
        if up:
            self.h_upd, self.x_upd = (
                Upsample(channels, False, dims),
                Upsample(channels, False, dims),
            )
        elif down:
            self.h_upd, self.x_upd = (
                Downsample(channels, False, dims),
                Downsample(channels, False, dims),
            )
        else:
            self.h_upd = self.x_upd = nn.Identity()
        # one linear layer maps the embedding to a bias (or to a scale and a shift)
        emb_out = 2 * self.out_channels if use_scale_shift_norm else self.out_channels
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_channels, emb_out))
        self.out_layers = nn.Sequential(
            normalization(self.out_channels),
            nn.SiLU(),
            nn.Dropout(p=dropout),
            zero_module(
                conv_nd(dims, self.out_channels, self.out_channels, 3, padding=1)
            ),
        )
        if self.out_channels == channels:
            self.skip_connection = nn.Identity()
        elif use_conv:
            self.skip_connection = conv_nd(
                dims, channels, self.out_channels, 3, padding=1
            )
        else:
            self.skip_connection = conv_nd(dims, channels, self.out_channels, 1)

    # --8<-- [end:resblock_init]

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        if self.use_checkpoint and torch.is_grad_enabled():
            return torch.utils.checkpoint.checkpoint(
                self._forward, x, emb, use_reentrant=False
            )
        return self._forward(x, emb)

    # --8<-- [start:resblock_forward]
    def _forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        if self.updown:  # resample between the norm/activation and the first conv
            norm_act, conv = self.in_layers[:-1], self.in_layers[-1]
            h = conv(self.h_upd(norm_act(x)))
            x = self.x_upd(x)
        else:
            h = self.in_layers(x)  # (B, C_out, H, W)
        emb_out = self.emb_layers(emb).to(h.dtype)  # (B, C_out) or (B, 2 C_out)
        emb_out = emb_out.reshape(
            *emb_out.shape, *([1] * (h.ndim - 2))
        )  # broadcast over space
        if self.use_scale_shift_norm:  # AdaGN
            norm, rest = self.out_layers[0], self.out_layers[1:]
            scale, shift = emb_out.chunk(2, dim=1)
            h = rest(norm(h) * (1 + scale) + shift)
        else:
            h = self.out_layers(h + emb_out)
        return self.skip_connection(x) + h

    # --8<-- [end:resblock_forward]
