"""Exercise: how much does the latent space save? The same text-conditioned UNet on the
8x8x4 latent and on the 32x32x3 image.

Convolutions and per-position linear layers cost the same per position, so 16 times
more positions cost 16 times more; attention scores over the positions grow with
their square; the text's keys and values and the time embedding do not grow at all.
"""

import torch
from difflearn import pretrained
from difflearn.models import LatentUNet
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

_, _, card = pretrained.load("glyphs-unet")
cfg = card["kwargs"]["denoiser"]
on_latents = LatentUNet(**cfg)
on_pixels = LatentUNet(**{**cfg, "in_channels": 3, "sample_size": 32})
ctx = torch.randn(1, 16, 64)


def flops(net, x):
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH):
        with FlopCounterMode(display=False) as counter:
            net(x, torch.tensor([500.0]), ctx)
    return counter.get_total_flops()


f_latent = flops(on_latents, torch.randn(1, 4, 8, 8))
f_pixel = flops(on_pixels, torch.randn(1, 3, 32, 32))
ratio = f_pixel / f_latent
print(f"latent {f_latent / 1e6:.1f} MFLOP, image {f_pixel / 1e6:.1f}: x{ratio:.1f}")
assert ratio > 16  # at least the ratio of positions: 32 * 32 / (8 * 8)
