r"""Small building blocks of the ADM UNet: time embedding, norms, zero init.

The names (`timestep_embedding`, `normalization`, `zero_module`, `conv_nd`,
`avg_pool_nd`) are those of guided-diffusion's `nn.py` so that a reader can
put the two side by side; the code is written for this project.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

DIMS = (1, 2, 3)


# --8<-- [start:timestep_embedding]
def timestep_embedding(
    timesteps: torch.Tensor, dim: int, max_period: float = 10000.0
) -> torch.Tensor:
    r"""Sinusoidal embedding of (possibly fractional) timesteps.

    With $d$ = `dim` and $k = 0, \dots, d/2 - 1$ the frequencies are
    $\omega_k = \text{max\_period}^{-2k/d}$ and

    $$e(t) = \big[\cos(\omega_0 t), \dots, \cos(\omega_{d/2-1} t),\;
    \sin(\omega_0 t), \dots, \sin(\omega_{d/2-1} t)\big],$$

    cosines first (the order of the transformer position encoding of Vaswani
    et al., 2017, with the two halves concatenated instead of interleaved).
    An odd `dim` gets one trailing zero.

    Args:
        timesteps: `(B,)` tensor, one time per batch element.
        dim: width of the embedding.
        max_period: the slowest period, in units of `timesteps`.

    Returns:
        `(B, dim)` float32 tensor.
    """
    half = dim // 2
    k = torch.arange(half, dtype=torch.float32, device=timesteps.device)
    omega = torch.exp(-math.log(max_period) * k / half)  # (dim/2,)
    angle = timesteps[:, None].float() * omega[None]  # (B, dim/2)
    emb = torch.cat([torch.cos(angle), torch.sin(angle)], dim=-1)
    if dim % 2:
        emb = F.pad(emb, (0, 1))
    return emb


# --8<-- [end:timestep_embedding]


# --8<-- [start:groupnorm32]
class GroupNorm32(nn.GroupNorm):
    """GroupNorm with 32 groups that always normalises in float32.

    Half-precision activations are upcast, normalised with float32 statistics
    and affine parameters, and cast back to the input dtype, so the model can
    run its convolutions in float16/bfloat16 while the statistics stay exact.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = None if self.weight is None else self.weight.float()
        bias = None if self.bias is None else self.bias.float()
        return F.group_norm(x.float(), self.num_groups, weight, bias, self.eps).to(
            x.dtype
        )


def normalization(channels: int) -> GroupNorm32:
    """The norm used everywhere in ADM: 32 groups, eps 1e-5, affine."""
    return GroupNorm32(32, channels)


# --8<-- [end:groupnorm32]


# --8<-- [start:zero_module]
def zero_module(module: nn.Module) -> nn.Module:
    """Set every parameter of `module` to zero and return it.

    ADM zero-initialises the last convolution of each residual branch (and of
    the output head), so at initialisation every `ResBlock` and
    `AttentionBlock` is the identity and the network starts as a shallow one.
    """
    for p in module.parameters():
        p.detach().zero_()
    return module


# --8<-- [end:zero_module]


def conv_nd(dims: int, *args, **kwargs) -> nn.Module:
    """`nn.Conv1d`, `nn.Conv2d` or `nn.Conv3d` for `dims` = 1, 2, 3."""
    if dims not in DIMS:
        raise ValueError(f"dims must be one of {DIMS}, got {dims!r}")
    return (nn.Conv1d, nn.Conv2d, nn.Conv3d)[dims - 1](*args, **kwargs)


def avg_pool_nd(dims: int, *args, **kwargs) -> nn.Module:
    """`nn.AvgPool1d`, `nn.AvgPool2d` or `nn.AvgPool3d` for `dims` = 1, 2, 3."""
    if dims not in DIMS:
        raise ValueError(f"dims must be one of {DIMS}, got {dims!r}")
    return (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)[dims - 1](*args, **kwargs)


def convert_module_to_f16(module: nn.Module) -> None:
    """Cast the weights of a convolution to float16 (used by `use_fp16`)."""
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        module.half()


def convert_module_to_f32(module: nn.Module) -> None:
    """Undo `convert_module_to_f16`."""
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        module.float()
