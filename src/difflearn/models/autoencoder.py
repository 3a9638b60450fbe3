r"""`AutoencoderKL`: the KL-regularised autoencoder of latent diffusion, in miniature.

Latent diffusion (Rombach et al., 2022) runs the diffusion model on the latents
$z \sim q_\phi(z \mid x)$ of an autoencoder instead of on pixels. The encoder
$\mathcal E$ maps an image $x$ of size $H \times W \times 3$ to the mean and the log
variance of a diagonal Gaussian over a latent of size
$\frac{H}{f} \times \frac{W}{f} \times c$ (here $f = 4$, $c = 4$: 32x32x3 -> 8x8x4);
the decoder $\mathcal D$ maps a latent back to an image. Training minimises a
reconstruction loss plus a small KL term towards $\mathcal N(0, I)$ (the VAE objective
of Kingma & Welling, 2014, with a tiny weight), see `difflearn.training.autoencoder`.

The layers and their names follow diffusers' `AutoencoderKL` (itself Stable
Diffusion's `ldm.models.autoencoder.AutoencoderKL`): convolutional down blocks of
GroupNorm-SiLU-conv residual blocks, a middle block with one single-head
self-attention, `quant_conv` / `post_quant_conv` 1x1 convolutions around the latent.
So `model.state_dict()` loads into `diffusers.AutoencoderKL(**model.diffusers_config())`
with `strict=True`, and the two give the same outputs (`tests/test_autoencoder.py`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _norm(channels: int, groups: int) -> nn.GroupNorm:
    return nn.GroupNorm(groups, channels, eps=1e-6)


# --8<-- [start:resnet]
class ResnetBlock(nn.Module):
    r"""Two rounds of GroupNorm, SiLU and a 3x3 convolution, added to the input:
    $x + f(x)$, with a 1x1 `conv_shortcut` on $x$ when the width changes. No time
    input: the autoencoder sees clean images only.
    """

    def __init__(self, in_channels: int, out_channels: int, groups: int):
        super().__init__()
        self.norm1 = _norm(in_channels, groups)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.norm2 = _norm(out_channels, groups)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        if in_channels != out_channels:
            self.conv_shortcut = nn.Conv2d(in_channels, out_channels, 1)
        else:
            self.conv_shortcut = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        skip = x if self.conv_shortcut is None else self.conv_shortcut(x)
        return skip + h


# --8<-- [end:resnet]


class SelfAttention(nn.Module):
    r"""Single-head self-attention over the $h \times w$ positions, with a residual
    connection: $x + W_o\,\mathrm{softmax}(QK^\top/\sqrt{C})V$ on GroupNorm(x).
    """

    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.group_norm = _norm(channels, groups)
        self.to_q = nn.Linear(channels, channels)
        self.to_k = nn.Linear(channels, channels)
        self.to_v = nn.Linear(channels, channels)
        self.to_out = nn.ModuleList([nn.Linear(channels, channels)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        h = self.group_norm(x).flatten(2).transpose(1, 2)  # (B, HW, C)
        q, k, v = self.to_q(h), self.to_k(h), self.to_v(h)
        h = F.scaled_dot_product_attention(q, k, v)  # (B, HW, C)
        h = self.to_out[0](h).transpose(1, 2).reshape(B, C, H, W)
        return x + h


class MidBlock(nn.Module):
    """Residual block, self-attention, residual block, at the lowest resolution."""

    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.resnets = nn.ModuleList(
            [ResnetBlock(channels, channels, groups) for _ in range(2)]
        )
        self.attentions = nn.ModuleList([SelfAttention(channels, groups)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.resnets[1](self.attentions[0](self.resnets[0](x)))


class Downsample(nn.Module):
    """A 3x3 convolution with stride 2 after padding one pixel right and below."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Upsample(nn.Module):
    """Nearest-neighbour 2x upsampling, then a 3x3 convolution."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Block(nn.Module):
    """Residual blocks at one resolution, then an optional resampling layer."""

    def __init__(self, chans: list[int], groups: int, resample: str | None):
        super().__init__()
        pairs = zip(chans[:-1], chans[1:])
        self.resnets = nn.ModuleList([ResnetBlock(a, b, groups) for a, b in pairs])
        if resample == "down":
            self.downsamplers = nn.ModuleList([Downsample(chans[-1])])
        elif resample == "up":
            self.upsamplers = nn.ModuleList([Upsample(chans[-1])])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for resnet in self.resnets:
            x = resnet(x)
        for resample in getattr(self, "downsamplers", getattr(self, "upsamplers", [])):
            x = resample(x)
        return x


# --8<-- [start:encoder_decoder]
class Encoder(nn.Module):
    """Image `(B, 3, H, W)` -> Gaussian moments `(B, 2c, H/f, W/f)`."""

    def __init__(self, in_ch, channels, layers, latent, groups):
        super().__init__()
        self.conv_in = nn.Conv2d(in_ch, channels[0], 3, padding=1)
        last = len(channels) - 1
        self.down_blocks = nn.ModuleList(
            Block(
                [channels[max(i - 1, 0)]] + [c] * layers,
                groups,
                "down" if i < last else None,
            )
            for i, c in enumerate(channels)
        )
        self.mid_block = MidBlock(channels[-1], groups)
        self.conv_norm_out = _norm(channels[-1], groups)
        self.conv_out = nn.Conv2d(channels[-1], 2 * latent, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(x)
        for block in self.down_blocks:
            h = block(h)  # halves H and W, except the last
        h = self.mid_block(h)
        return self.conv_out(F.silu(self.conv_norm_out(h)))


class Decoder(nn.Module):
    """Latent `(B, c, h, w)` -> image `(B, 3, f h, f w)`: the encoder in reverse, with
    one more residual block per resolution.
    """

    def __init__(self, out_ch, channels, layers, latent, groups):
        super().__init__()
        rev = list(reversed(channels))
        self.conv_in = nn.Conv2d(latent, rev[0], 3, padding=1)
        self.mid_block = MidBlock(rev[0], groups)
        self.up_blocks = nn.ModuleList(
            Block(
                [rev[max(i - 1, 0)]] + [c] * (layers + 1),
                groups,
                "up" if i < len(rev) - 1 else None,
            )
            for i, c in enumerate(rev)
        )
        self.conv_norm_out = _norm(channels[0], groups)
        self.conv_out = nn.Conv2d(channels[0], out_ch, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.mid_block(self.conv_in(z))
        for block in self.up_blocks:
            h = block(h)  # doubles H and W, except the last
        return self.conv_out(F.silu(self.conv_norm_out(h)))


# --8<-- [end:encoder_decoder]


# --8<-- [start:posterior]
class DiagonalGaussian:
    r"""$q_\phi(z \mid x) = \mathcal N(\mu, \operatorname{diag}\sigma^2)$ from the
    encoder's moments `(B, 2c, h, w)` (mean first, then $\log\sigma^2$, clamped to
    $[-30, 20]$ as in Stable Diffusion).
    """

    def __init__(self, moments: torch.Tensor):
        self.mean, logvar = moments.chunk(2, dim=1)  # (B, c, h, w) each
        self.logvar = logvar.clamp(-30.0, 20.0)
        self.std = torch.exp(0.5 * self.logvar)

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        r"""$z = \mu + \sigma \odot \varepsilon$, $\varepsilon \sim \mathcal N(0,
        I)$: the reparametrisation trick."""
        eps = torch.randn(
            self.mean.shape,
            generator=generator,
            device=self.mean.device,
            dtype=self.mean.dtype,
        )
        return self.mean + self.std * eps

    def kl(self) -> torch.Tensor:
        r"""$\mathrm{KL}(q \,\|\, \mathcal N(0, I)) = \tfrac12\sum(\mu^2 + \sigma^2 - 1
        - \log\sigma^2)$ per image, `(B,)`."""
        var = self.std**2
        return 0.5 * (self.mean**2 + var - 1.0 - self.logvar).flatten(1).sum(1)


# --8<-- [end:posterior]


class AutoencoderKL(nn.Module):
    """The autoencoder: `encode(x) -> DiagonalGaussian`, `decode(z) -> image`.

    Args:
        in_channels: image channels (3).
        out_channels: channels of the decoded image (3).
        block_out_channels: width at each resolution; the image is halved
            `len(block_out_channels) - 1` times, so `(16, 32, 64)` gives f = 4.
        layers_per_block: residual blocks per resolution in the encoder (the decoder
            has one more).
        latent_channels: $c$, the channels of the latent.
        norm_num_groups: groups of every GroupNorm.
        sample_size: the image side the model is built for; latents are
            `sample_size / f` on a side.
        scaling_factor: the number latents are multiplied by before diffusion
            (`difflearn.latent.latent_scaling_factor` measures it).
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        block_out_channels: tuple[int, ...] = (16, 32, 64),
        layers_per_block: int = 1,
        latent_channels: int = 4,
        norm_num_groups: int = 8,
        sample_size: int = 32,
        scaling_factor: float = 1.0,
    ):
        super().__init__()
        chans = tuple(block_out_channels)
        if any(c % norm_num_groups for c in chans):
            raise ValueError(
                f"block_out_channels must be multiples of norm_num_groups="
                f"{norm_num_groups}, got {chans!r}"
            )
        f = 2 ** (len(chans) - 1)
        if sample_size % f:
            raise ValueError(
                f"sample_size must be a multiple of {f}, got {sample_size!r}"
            )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.block_out_channels, self.layers_per_block = chans, layers_per_block
        self.latent_channels, self.norm_num_groups = latent_channels, norm_num_groups
        self.sample_size, self.scaling_factor = sample_size, float(scaling_factor)
        self.latent_size = sample_size // f
        args = (chans, layers_per_block, latent_channels, norm_num_groups)
        self.encoder = Encoder(in_channels, *args)
        self.decoder = Decoder(out_channels, *args)
        self.quant_conv = nn.Conv2d(2 * latent_channels, 2 * latent_channels, 1)
        self.post_quant_conv = nn.Conv2d(latent_channels, latent_channels, 1)

    def _check(self, x: torch.Tensor, name: str, shape: tuple) -> None:
        if not torch.is_tensor(x) or x.dim() != 4 or tuple(x.shape[1:]) != shape:
            got = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
            raise ValueError(
                f"{name} must have shape (B, {', '.join(map(str, shape))}), got {got}"
            )

    # --8<-- [start:encode_decode]
    def encode(self, x: torch.Tensor) -> DiagonalGaussian:
        r"""$q_\phi(z \mid x)$ of images `(B, 3, 32, 32)` in [-1, 1]."""
        s = self.sample_size
        self._check(x, "x", (self.in_channels, s, s))
        return DiagonalGaussian(self.quant_conv(self.encoder(x)))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images `(B, 3, 32, 32)` of *unscaled* latents `(B, 4, 8, 8)`."""
        s = self.latent_size
        self._check(z, "latent z", (self.latent_channels, s, s))
        return self.decoder(self.post_quant_conv(z))

    def forward(
        self, x: torch.Tensor, eps: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, DiagonalGaussian]:
        r"""`(reconstruction, posterior)`: $\mathcal D(\mu + \sigma \odot
        \varepsilon)$ with the given noise `eps` (default: $\mathcal D(\mu)$)."""
        posterior = self.encode(x)
        z = posterior.mean if eps is None else posterior.mean + posterior.std * eps
        return self.decode(z), posterior

    # --8<-- [end:encode_decode]

    def diffusers_config(self) -> dict:
        """The keyword arguments of `diffusers.AutoencoderKL` for the same network."""
        n = len(self.block_out_channels)
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "down_block_types": ("DownEncoderBlock2D",) * n,
            "up_block_types": ("UpDecoderBlock2D",) * n,
            "block_out_channels": self.block_out_channels,
            "layers_per_block": self.layers_per_block,
            "latent_channels": self.latent_channels,
            "norm_num_groups": self.norm_num_groups,
            "sample_size": self.sample_size,
            "scaling_factor": self.scaling_factor,
        }


__all__ = ["AutoencoderKL", "DiagonalGaussian", "Decoder", "Encoder", "ResnetBlock"]
