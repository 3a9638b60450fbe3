"""The shipped autoencoder: 32x32x3 images to 8x8x4 latents (12x fewer numbers) and
back, its reconstruction error on test images it never saw, and the error a decoder
gives for a latent of the wrong shape."""

import math

import torch
from difflearn import pretrained
from difflearn.data import load_glyphs

vae, _, card = pretrained.load("glyphs-vae")
x = load_glyphs("test", n=500).images  # (500, 3, 32, 32) in [-1, 1]
with torch.no_grad():
    posterior = vae.encode(x)
    z = posterior.mean  # (500, 4, 8, 8)
    x_rec = vae.decode(z).clamp(-1, 1)
print(f"{x[0].numel()} numbers per image -> {z[0].numel()} per latent")
assert z.shape == (500, 4, 8, 8) and x[0].numel() / z[0].numel() == 12

mse01 = float(((x_rec - x) / 2).pow(2).mean())  # on the [0, 1] scale
psnr = 10 * math.log10(1 / mse01)
print(
    f"PSNR {psnr:.2f} dB on 500 test images; the card (2,000 images) says "
    f"{card['measured']['reconstruction']['psnr_db']} dB"
)
assert abs(psnr - card["measured"]["reconstruction"]["psnr_db"]) < 0.5
assert psnr > 20  # an error of about a tenth of the range, or less, per pixel

# the posterior is nearly deterministic: its noise is small next to the latents' spread
ratio = float(posterior.std.mean() / z.std())
print(f"posterior std / latent std = {ratio:.3f}")
assert ratio < 0.01  # the page: about 0.2%

try:
    vae.decode(torch.zeros(1, 4, 16, 16))  # a latent of a 64x64 image: not this model's
except ValueError as err:
    print(err)
    assert "(B, 4, 8, 8)" in str(err)
