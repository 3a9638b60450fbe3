"""Inference settings for the ADM UNet: reduced precision, channels-last memory,
`torch.compile`.

None of these change the architecture or the state dict. Attention already
goes through `scaled_dot_product_attention` (fused kernels on GPU).
"""

from __future__ import annotations

import torch
from torch import nn

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


# --8<-- [start:optimize]
def optimize(
    model: nn.Module,
    dtype: str = "fp32",
    channels_last: bool = False,
    compile: bool = False,
    compile_mode: str | None = None,
):
    """Prepare a model for fast inference and return it (or its compiled version).

    Args:
        dtype: `"fp32"`, `"bf16"` or `"fp16"`: the dtype of all weights. Group
            norms still compute their statistics in float32, and the softmax of
            attention is done by the fused kernel in float32.
        channels_last: store activations as `(B, H, W, C)` in memory, the layout
            tensor-core convolutions want.
        compile: wrap with `torch.compile` (the first call compiles).
        compile_mode: passed to `torch.compile` (e.g. `"max-autotune"`).

    Feed inputs of the same dtype (and memory format); `model.dtype` tells it.
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {tuple(DTYPES)}, got {dtype!r}")
    model = model.to(DTYPES[dtype]).eval()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    if compile:
        return torch.compile(model, mode=compile_mode)
    return model


# --8<-- [end:optimize]


def set_fast_backends(tf32: bool = True) -> None:
    """cuDNN autotuning and (optionally) TF32 matmuls/convolutions for float32 on NVIDIA
    GPUs.
    """
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
