"""The networks: the ADM UNet of guided-diffusion and the small models the site trains.

- `difflearn.models.adm`: guided-diffusion's ADM (`UNetModel`, `SuperResModel`, the
  noisy classifier `EncoderUNetModel`), presets and checkpoints
- `difflearn.models.toy_mlp`: `ToyMLP`, a noise predictor for 2-D points
- `difflearn.models.digits_features`: `DigitsFeatures`, the clean-digits CNN behind
  `difflearn.metrics`
- latent text-to-image: `autoencoder` (`AutoencoderKL`), `text_encoder`
  (`TextEncoder`, `TextConditioned`), `cross_attention`, `latent_unet` (`LatentUNet`),
  `dit` (`DiT`), `mmdit` (`MMDiT`) and `glyph_reader` (`GlyphReader`, the judge of
  the glyph samples)
"""

from .adm.attention import (
    AttentionBlock,
    AttentionPool2d,
    QKVAttention,
    QKVAttentionLegacy,
    attention_tokens,
    set_attention_backend,
)
from .adm.blocks import Downsample, ResBlock, TimestepEmbedSequential, Upsample
from .adm.checkpoint import infer_config, load_checkpoint, read_state_dict
from .adm.classifier import POOLS, EncoderUNetModel
from .adm.inference import optimize, set_fast_backends
from .adm.learn_sigma import (
    eps_only,
    learned_log_variance,
    posterior_log_variance_clipped,
    split_learned_sigma,
)
from .adm.nn import GroupNorm32, normalization, timestep_embedding, zero_module
from .adm.presets import (
    PRESETS,
    RELEASED_FLAGS,
    count_flops,
    count_params,
    create_model,
    flags_to_kwargs,
    preset_table,
)
from .adm.unet import SuperResModel, UNetModel
from .autoencoder import AutoencoderKL
from .cross_attention import SpatialTransformer, TransformerBlock
from .digits_features import DigitsFeatures
from .dit import DiT, DiTBlock
from .glyph_reader import GlyphReader
from .latent_unet import LatentUNet
from .mmdit import MMDiT, MMDiTBlock
from .text_encoder import TextConditioned, TextEncoder
from .toy_mlp import ToyMLP

__all__ = [
    "AutoencoderKL",
    "DiT",
    "DiTBlock",
    "GlyphReader",
    "LatentUNet",
    "MMDiT",
    "MMDiTBlock",
    "SpatialTransformer",
    "TextConditioned",
    "TextEncoder",
    "TransformerBlock",
    "PRESETS",
    "POOLS",
    "RELEASED_FLAGS",
    "AttentionBlock",
    "DigitsFeatures",
    "ToyMLP",
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
