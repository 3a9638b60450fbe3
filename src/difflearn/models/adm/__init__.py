"""guided-diffusion's ADM (Dhariwal & Nichol, 2021): the UNet, its noisy classifier,
presets, checkpoints.

`UNetModel`, `SuperResModel` and `EncoderUNetModel` take guided-diffusion's
constructor arguments and have its state-dict keys, so the released
checkpoints load with `strict=True`; `PRESETS` holds the configuration of each
released checkpoint and `load_checkpoint` loads one (safely) with or without it.

- `nn`: small layers (`GroupNorm32`, the sinusoidal `timestep_embedding`, `zero_module`)
- `blocks`: `ResBlock`, `Downsample`, `Upsample`, `TimestepEmbedSequential`
- `attention`: self-attention in both head orders, attention pooling
- `unet`: `UNetModel`, `SuperResModel`
- `classifier`: `EncoderUNetModel`, the noisy classifier
- `presets`: the released configurations, parameter and FLOP counts
- `checkpoint`: safe loading and configuration inference
- `learn_sigma`: the learned-variance outputs
- `inference`: reduced precision, channels-last, `torch.compile`
"""
