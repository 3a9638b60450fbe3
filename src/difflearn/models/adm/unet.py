r"""The ADM UNet of Dhariwal & Nichol (2021), "Diffusion Models Beat GANs".

`UNetModel` takes guided-diffusion's constructor keyword arguments and has
its state-dict keys and shapes, so the released checkpoints load with
`strict=True`. Levels are counted by the downsampling rate `ds` (1, 2, 4, ...);
`attention_resolutions` lists the rates with attention, not pixel sizes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .attention import AttentionBlock
from .blocks import Downsample, ResBlock, TimestepEmbedSequential, Upsample
from .nn import (
    conv_nd,
    convert_module_to_f16,
    convert_module_to_f32,
    normalization,
    timestep_embedding,
    zero_module,
)


def check_timesteps(x: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
    """Broadcast a scalar time to the batch; refuse a `(B,)` tensor of the
    wrong size.
    """
    timesteps = torch.as_tensor(timesteps, device=x.device)
    if timesteps.ndim == 0:
        timesteps = timesteps.expand(x.shape[0])
    if timesteps.shape != (x.shape[0],):
        raise ValueError(
            f"timesteps must have shape ({x.shape[0]},) or (), "
            f"got {tuple(timesteps.shape)}"
        )
    return timesteps


def check_image(x: torch.Tensor, channels: int, factor: int) -> None:
    """Raise unless `x` is `(B, channels, H, W)` with H and W multiples of `factor` (the
    UNet halves them `log2(factor)` times and must double them back).
    """
    if x.ndim < 3 or x.shape[1] != channels:
        raise ValueError(
            f"x must have shape (B, {channels}, H, W), got {tuple(x.shape)}"
        )
    if any(s % factor for s in x.shape[2:]):
        raise ValueError(
            f"x must have H and W divisible by {factor} (the UNet downsamples "
            f"{factor.bit_length() - 1} times), got {tuple(x.shape[2:])}: pad or "
            "resize the image"
        )


class UNetModel(nn.Module):
    """The full ADM UNet with attention, time and class embedding.

    Args:
        image_size: stored only (the network is fully convolutional).
        in_channels: channels of the input.
        model_channels: base width; level `i` has `channel_mult[i] * model_channels`.
        out_channels: channels of the output (`2 * in_channels` when the variance is
            learned).
        num_res_blocks: residual blocks per level on the way down (one more up).
        attention_resolutions: downsampling rates at which attention is used,
            e.g. `(2, 4, 8)` for 32, 16 and 8 pixels in a 64x64 model.
        dropout: dropout rate inside residual blocks.
        channel_mult: width multiplier of each level.
        conv_resample: learned 3x3 convolutions for resampling.
        dims: 1, 2 or 3 spatial dimensions.
        num_classes: number of classes for a class-conditional model, else None.
        use_checkpoint: gradient checkpointing (less memory, more compute).
        use_fp16: run the torso in float16 after `convert_to_fp16()`.
        num_heads: attention heads.
        num_head_channels: if not -1, the width of each head (overrides `num_heads`).
        num_heads_upsample: heads in the decoder's attention (-1: `num_heads`).
        use_scale_shift_norm: AdaGN conditioning in residual blocks.
        resblock_updown: resample with residual blocks instead of plain layers.
        use_new_attention_order: `QKVAttention` instead of `QKVAttentionLegacy`.
    """

    # --8<-- [start:unet_init]
    def __init__(
        self,
        image_size: int | None,
        in_channels: int,
        model_channels: int,
        out_channels: int,
        num_res_blocks: int,
        attention_resolutions: tuple,
        dropout: float = 0,
        channel_mult: tuple = (1, 2, 4, 8),
        conv_resample: bool = True,
        dims: int = 2,
        num_classes: int | None = None,
        use_checkpoint: bool = False,
        use_fp16: bool = False,
        num_heads: int = 1,
        num_head_channels: int = -1,
        num_heads_upsample: int = -1,
        use_scale_shift_norm: bool = False,
        resblock_updown: bool = False,
        use_new_attention_order: bool = False,
    ):
        super().__init__()
        if num_heads_upsample == -1:
            num_heads_upsample = num_heads
        self.image_size, self.in_channels, self.out_channels = (
            image_size,
            in_channels,
            out_channels,
        )
        self.model_channels, self.num_res_blocks = model_channels, num_res_blocks
        self.attention_resolutions, self.dropout = attention_resolutions, dropout
        self.channel_mult, self.conv_resample, self.num_classes = (
            channel_mult,
            conv_resample,
            num_classes,
        )
        self.use_checkpoint, self.use_fp16 = use_checkpoint, use_fp16
        self.num_heads, self.num_head_channels = num_heads, num_head_channels
        self.num_heads_upsample = num_heads_upsample

        emb_dim = model_channels * 4
        self.time_embed = nn.Sequential(
            nn.Linear(model_channels, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim)
        )
        if num_classes is not None:
            self.label_emb = nn.Embedding(num_classes, emb_dim)

        def res(ch_in, ch_out, **kw):
            return ResBlock(
                ch_in,
                emb_dim,
                dropout,
                out_channels=ch_out,
                dims=dims,
                use_checkpoint=use_checkpoint,
                use_scale_shift_norm=use_scale_shift_norm,
                **kw,
            )

        def attn(ch, heads):
            return AttentionBlock(
                ch,
                use_checkpoint=use_checkpoint,
                num_heads=heads,
                num_head_channels=num_head_channels,
                use_new_attention_order=use_new_attention_order,
            )

        ch = input_ch = int(channel_mult[0] * model_channels)
        self.input_blocks = nn.ModuleList(
            [TimestepEmbedSequential(conv_nd(dims, in_channels, ch, 3, padding=1))]
        )
        skip_chans, ds = (
            [ch],
            1,
        )  # channels of every skip connection; current downsampling rate
        for level, mult in enumerate(channel_mult):
            for _ in range(num_res_blocks):
                layers = [res(ch, int(mult * model_channels))]
                ch = int(mult * model_channels)
                if ds in attention_resolutions:
                    layers.append(attn(ch, num_heads))
                self.input_blocks.append(TimestepEmbedSequential(*layers))
                skip_chans.append(ch)
            if level != len(channel_mult) - 1:
                down = (
                    res(ch, ch, down=True)
                    if resblock_updown
                    else Downsample(ch, conv_resample, dims, ch)
                )
                self.input_blocks.append(TimestepEmbedSequential(down))
                skip_chans.append(ch)
                ds *= 2

        self.middle_block = TimestepEmbedSequential(
            res(ch, ch), attn(ch, num_heads), res(ch, ch)
        )

        self.output_blocks = nn.ModuleList()
        for level, mult in list(enumerate(channel_mult))[::-1]:
            for i in range(num_res_blocks + 1):
                layers = [res(ch + skip_chans.pop(), int(model_channels * mult))]
                ch = int(model_channels * mult)
                if ds in attention_resolutions:
                    layers.append(attn(ch, num_heads_upsample))
                if level and i == num_res_blocks:
                    up = (
                        res(ch, ch, up=True)
                        if resblock_updown
                        else Upsample(ch, conv_resample, dims, ch)
                    )
                    layers.append(up)
                    ds //= 2
                self.output_blocks.append(TimestepEmbedSequential(*layers))

        self.out = nn.Sequential(
            normalization(ch),
            nn.SiLU(),
            zero_module(conv_nd(dims, input_ch, out_channels, 3, padding=1)),
        )

    # --8<-- [end:unet_init]

    @property
    def dtype(self) -> torch.dtype:
        """dtype the torso runs in: that of the first convolution's weight."""
        return self.input_blocks[0][0].weight.dtype

    def _torso(self):
        return (self.input_blocks, self.middle_block, self.output_blocks)

    def convert_to_fp16(self) -> nn.Module:
        """Cast the convolutions of the torso to float16 (guided-diffusion's
        `use_fp16`).
        """
        for part in self._torso():
            part.apply(convert_module_to_f16)
        return self

    def convert_to_fp32(self) -> nn.Module:
        """Undo `convert_to_fp16`."""
        for part in self._torso():
            part.apply(convert_module_to_f32)
        return self

    # --8<-- [start:embed]
    def embed(
        self, timesteps: torch.Tensor, y: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Time embedding, plus the class embedding for a conditional model:
        `(B, 4 C)`.
        """
        w = self.time_embed[0].weight
        emb = self.time_embed(
            timestep_embedding(timesteps, self.model_channels).to(w.dtype)
        )
        if (y is not None) != (self.num_classes is not None):
            given = "a tensor" if y is not None else None
            raise ValueError(
                f"y must be given if and only if the model is class-conditional "
                f"(num_classes={self.num_classes!r}), got y={given}"
            )
        if y is not None:
            if y.shape != timesteps.shape:
                raise ValueError(
                    f"y must have shape {tuple(timesteps.shape)}, got {tuple(y.shape)}"
                )
            emb = emb + self.label_emb(y)
        return emb

    # --8<-- [end:embed]

    # --8<-- [start:unet_forward]
    def forward(
        self, x: torch.Tensor, timesteps: torch.Tensor, y: torch.Tensor | None = None
    ) -> torch.Tensor:
        """`x` `(B, C, H, W)`, `timesteps` `(B,)` (may be fractional), `y` `(B,)`
        labels.
        """
        check_image(x, self.in_channels, 2 ** (len(self.channel_mult) - 1))
        emb = self.embed(check_timesteps(x, timesteps), y)
        skips = []
        h = x.to(self.dtype)
        for block in self.input_blocks:
            h = block(h, emb)
            skips.append(h)
        h = self.middle_block(h, emb)
        for block in self.output_blocks:
            h = block(torch.cat([h, skips.pop()], dim=1), emb)
        return self.out(
            h.to(self.out[-1].weight.dtype)
        )  # the head runs in its own dtype

    # --8<-- [end:unet_forward]


class SuperResModel(UNetModel):
    """A `UNetModel` that also sees a low-resolution image.

    The low-resolution image is upsampled bilinearly to the size of `x` and
    concatenated to it, so the first convolution takes `2 * in_channels`.
    """

    def __init__(self, image_size, in_channels, *args, **kwargs):
        super().__init__(image_size, in_channels * 2, *args, **kwargs)

    def forward(self, x, timesteps, low_res=None, **kwargs):
        if low_res is None:
            raise ValueError("low_res must be a (B, C, h, w) tensor, got None")
        upsampled = F.interpolate(low_res, x.shape[-2:], mode="bilinear")
        return super().forward(torch.cat([x, upsampled], dim=1), timesteps, **kwargs)
