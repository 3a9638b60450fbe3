r"""The noisy classifier of classifier guidance: the down half of the ADM UNet.

`EncoderUNetModel` is the encoder and middle block of `UNetModel` followed by
a pooling head that maps features to `out_channels` logits of
$p_\phi(y \mid x_t, t)$ (Dhariwal & Nichol 2021, Sec. 4). Its gradient
$\nabla_{x_t} \log p_\phi(y \mid x_t, t)$ steers sampling towards class $y$.
"""

from __future__ import annotations

import torch
from torch import nn

from .attention import AttentionBlock, AttentionPool2d
from .blocks import Downsample, ResBlock, TimestepEmbedSequential
from .nn import (
    conv_nd,
    convert_module_to_f16,
    convert_module_to_f32,
    normalization,
    timestep_embedding,
    zero_module,
)
from .unet import check_timesteps

POOLS = ("adaptive", "attention", "spatial", "spatial_v2")


class EncoderUNetModel(nn.Module):
    """Half a UNet with a pooling head; arguments as `UNetModel`, plus `pool`.

    `pool` is one of:

    * `"adaptive"`: GroupNorm, SiLU, global average, zero-initialised 1x1 conv;
    * `"attention"`: GroupNorm, SiLU, `AttentionPool2d` (the released
      classifiers; needs `num_head_channels`);
    * `"spatial"`: the spatial means of every block's output, concatenated,
      then an MLP with ReLU;
    * `"spatial_v2"`: the same with GroupNorm and SiLU in the MLP.
    """

    def __init__(
        self,
        image_size,
        in_channels,
        model_channels,
        out_channels,
        num_res_blocks,
        attention_resolutions,
        dropout=0,
        channel_mult=(1, 2, 4, 8),
        conv_resample=True,
        dims=2,
        use_checkpoint=False,
        use_fp16=False,
        num_heads=1,
        num_head_channels=-1,
        num_heads_upsample=-1,
        use_scale_shift_norm=False,
        resblock_updown=False,
        use_new_attention_order=False,
        pool="adaptive",
    ):
        super().__init__()
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")
        if pool == "attention" and num_head_channels == -1:
            raise ValueError("pool='attention' needs num_head_channels, got -1")
        if num_heads_upsample == -1:
            num_heads_upsample = num_heads
        self.image_size, self.in_channels, self.out_channels = (
            image_size,
            in_channels,
            out_channels,
        )
        self.model_channels, self.num_res_blocks = model_channels, num_res_blocks
        self.attention_resolutions, self.dropout = attention_resolutions, dropout
        self.channel_mult, self.conv_resample = channel_mult, conv_resample
        self.use_checkpoint, self.use_fp16 = use_checkpoint, use_fp16
        self.num_heads, self.num_head_channels = num_heads, num_head_channels
        self.num_heads_upsample = num_heads_upsample

        emb_dim = model_channels * 4
        self.time_embed = nn.Sequential(
            nn.Linear(model_channels, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim)
        )

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

        def attn(ch):
            return AttentionBlock(
                ch,
                use_checkpoint=use_checkpoint,
                num_heads=num_heads,
                num_head_channels=num_head_channels,
                use_new_attention_order=use_new_attention_order,
            )

        ch = int(channel_mult[0] * model_channels)
        self.input_blocks = nn.ModuleList(
            [TimestepEmbedSequential(conv_nd(dims, in_channels, ch, 3, padding=1))]
        )
        feature_size, ds = ch, 1  # feature_size: sum of the widths of all block outputs
        for level, mult in enumerate(channel_mult):
            for _ in range(num_res_blocks):
                layers = [res(ch, int(mult * model_channels))]
                ch = int(mult * model_channels)
                if ds in attention_resolutions:
                    layers.append(attn(ch))
                self.input_blocks.append(TimestepEmbedSequential(*layers))
                feature_size += ch
            if level != len(channel_mult) - 1:
                down = (
                    res(ch, ch, down=True)
                    if resblock_updown
                    else Downsample(ch, conv_resample, dims, ch)
                )
                self.input_blocks.append(TimestepEmbedSequential(down))
                ds *= 2
                feature_size += ch
        self.middle_block = TimestepEmbedSequential(res(ch, ch), attn(ch), res(ch, ch))
        feature_size += ch
        self._feature_size = feature_size

        # --8<-- [start:pool_heads]
        self.pool = pool
        if pool == "adaptive":
            self.out = nn.Sequential(
                normalization(ch),
                nn.SiLU(),
                nn.AdaptiveAvgPool2d((1, 1)),
                zero_module(conv_nd(dims, ch, out_channels, 1)),
                nn.Flatten(),
            )
        elif pool == "attention":
            self.out = nn.Sequential(
                normalization(ch),
                nn.SiLU(),
                AttentionPool2d(image_size // ds, ch, num_head_channels, out_channels),
            )
        elif pool == "spatial":
            self.out = nn.Sequential(
                nn.Linear(feature_size, 2048), nn.ReLU(), nn.Linear(2048, out_channels)
            )
        else:  # spatial_v2
            self.out = nn.Sequential(
                nn.Linear(feature_size, 2048),
                normalization(2048),
                nn.SiLU(),
                nn.Linear(2048, out_channels),
            )
        # --8<-- [end:pool_heads]

    @property
    def dtype(self) -> torch.dtype:
        """dtype the torso runs in: that of the first convolution's weight."""
        return self.input_blocks[0][0].weight.dtype

    def convert_to_fp16(self) -> nn.Module:
        """Cast the convolutions of the torso to float16 (guided-diffusion's
        `use_fp16`).
        """
        self.input_blocks.apply(convert_module_to_f16)
        self.middle_block.apply(convert_module_to_f16)
        return self

    def convert_to_fp32(self) -> nn.Module:
        """Undo `convert_to_fp16`."""
        self.input_blocks.apply(convert_module_to_f32)
        self.middle_block.apply(convert_module_to_f32)
        return self

    # --8<-- [start:encoder_forward]
    def forward(self, x: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        """`x` `(B, C, H, W)`, `timesteps` `(B,)` -> logits `(B, out_channels)`."""
        w = self.time_embed[0].weight
        t_emb = timestep_embedding(check_timesteps(x, timesteps), self.model_channels)
        emb = self.time_embed(t_emb.to(w.dtype))
        spatial = self.pool.startswith("spatial")
        means = []  # spatial pools: the mean of every block's output
        h = x.to(self.dtype)
        for block in self.input_blocks:
            h = block(h, emb)
            if spatial:
                means.append(h.to(x.dtype).mean(dim=(2, 3)))
        h = self.middle_block(h, emb)
        if spatial:
            means.append(h.to(x.dtype).mean(dim=(2, 3)))
            h = torch.cat(means, dim=-1)  # (B, feature_size)
        head_dtype = next(self.out.parameters()).dtype
        return self.out(h.to(head_dtype))

    # --8<-- [end:encoder_forward]
