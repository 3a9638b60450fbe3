"""The ADM UNet of guided-diffusion, its noisy classifier and its checkpoints.

`UNetModel`, `SuperResModel` and `EncoderUNetModel` take guided-diffusion's
constructor arguments and have its state-dict keys, so the released
checkpoints load with `strict=True`; `PRESETS` holds the configuration of each
released checkpoint and `load_checkpoint` loads one (safely) with or without it.
"""

from .attention import (
    AttentionBlock,
    AttentionPool2d,
    QKVAttention,
    QKVAttentionLegacy,
    attention_tokens,
    set_attention_backend,
)
from .blocks import Downsample, ResBlock, TimestepEmbedSequential, Upsample
from .checkpoint import infer_config, load_checkpoint, read_state_dict
from .classifier import POOLS, EncoderUNetModel
from .fast import optimize, set_fast_backends
from .learn_sigma import eps_only, learned_log_variance, posterior_log_variance_clipped, split_learned_sigma
from .nn import GroupNorm32, normalization, timestep_embedding, zero_module
from .presets import (
    PRESETS,
    RELEASED_FLAGS,
    count_flops,
    count_params,
    create_model,
    flags_to_kwargs,
    preset_table,
)
from .unet import SuperResModel, UNetModel

__all__ = [
    "PRESETS",
    "POOLS",
    "RELEASED_FLAGS",
    "AttentionBlock",
    "AttentionPool2d",
    "Downsample",
    "EncoderUNetModel",
    "GroupNorm32",
    "QKVAttention",
    "QKVAttentionLegacy",
    "ResBlock",
    "SuperResModel",
    "TimestepEmbedSequential",
    "UNetModel",
    "Upsample",
    "attention_tokens",
    "count_flops",
    "count_params",
    "create_model",
    "eps_only",
    "flags_to_kwargs",
    "infer_config",
    "learned_log_variance",
    "load_checkpoint",
    "normalization",
    "optimize",
    "posterior_log_variance_clipped",
    "preset_table",
    "read_state_dict",
    "set_attention_backend",
    "set_fast_backends",
    "split_learned_sigma",
    "timestep_embedding",
    "zero_module",
]
