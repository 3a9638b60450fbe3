"""The latent scaling factor: measured as Stable Diffusion measures it, and what it
does to the signal-to-noise ratio the model is trained on."""

import math

import torch
from difflearn import pretrained
from difflearn.data import load_glyphs
from difflearn.latent import encode_latents, latent_scaling_factor

vae, _, card = pretrained.load("glyphs-vae")
images = load_glyphs("train", n=2000).images
# SD: s = 1 / std of posterior samples z ~ q(z | x) of training images, all entries
s = latent_scaling_factor(vae, images, generator=torch.Generator().manual_seed(1))
print(f"measured s = {s:.4f}; the card says {vae.scaling_factor:.4f}")
# another noise draw moves it by far less than 1 % (the posterior noise is small)
assert abs(s / vae.scaling_factor - 1) < 0.01
z = encode_latents(vae, images)  # s * mean, what the denoisers are trained on
assert abs(float(z.std()) - 1) < 0.02
sigma_z = 1 / s  # the spread of the unscaled latents
print(f"unscaled latents have std {sigma_z:.2f}")

# unscaled latents x_t = alpha z + sigma eps have SNR sigma_z^2 alpha^2 / sigma^2: the
# log-SNR of every step moves up by 2 log sigma_z
ns = pretrained.load("glyphs-unet")[1]  # SD's scaled-linear schedule
g = torch.Generator().manual_seed(0)
z_raw = z[:1000] / s
for n in (100, 500, 999):
    m = ns.marginals(torch.tensor([(n + 1) / 1000], dtype=torch.float64))
    alpha, sigma = float(m.alpha[0]), float(m.sigma[0])
    signal = alpha * z_raw
    noise = sigma * torch.randn(z_raw.shape, generator=g)
    snr = float(signal.var() / noise.var())
    want = sigma_z**2 * alpha**2 / sigma**2
    print(f"step {n}: SNR {snr:.4f}, predicted {want:.4f}")
    assert abs(snr / want - 1) < 0.03
# the last step: x_T should be N(0, I), but unscaled latents leave a signal in it
m = ns.marginals(torch.tensor([1.0], dtype=torch.float64))
std_T = math.sqrt(float(m.alpha[0]) ** 2 * sigma_z**2 + float(m.sigma[0]) ** 2)
print(
    f"std of x_T: {std_T:.4f} unscaled vs "
    f"{math.sqrt(float(m.alpha[0]) ** 2 + float(m.sigma[0]) ** 2):.4f} scaled"
)
