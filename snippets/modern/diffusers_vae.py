"""The shipped autoencoder is a diffusers AutoencoderKL: its weights load into
diffusers' own class with strict=True and give the same latents and images."""

import torch
from difflearn import pretrained
from difflearn.data import load_glyphs
from diffusers import AutoencoderKL

ours, _, card = pretrained.load("glyphs-vae")
theirs = AutoencoderKL(**ours.diffusers_config()).eval()  # a tiny config
theirs.load_state_dict(ours.state_dict(), strict=True)  # same names, same shapes
print({k: v for k, v in ours.diffusers_config().items() if "types" not in k})

x = load_glyphs("test", n=64).images
with torch.no_grad():
    z_ours = ours.encode(x).mean * ours.scaling_factor
    z_theirs = theirs.encode(x).latent_dist.mean * theirs.config.scaling_factor
    x_ours = ours.decode(z_ours / ours.scaling_factor)
    x_theirs = theirs.decode(z_theirs / theirs.config.scaling_factor).sample
err_z = float((z_ours - z_theirs).abs().max())
err_x = float((x_ours - x_theirs).abs().max())
print(f"latents differ by {err_z:.1e}, images by {err_x:.1e}")
assert err_z < 1e-4 and err_x < 1e-4
