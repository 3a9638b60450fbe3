"""Caption dropout trains the unconditional model inside the conditional one; guidance
extrapolates between them. Checked: the dropout rate, that kept captions stay with
their latents, and the limits s = 0 (unconditional) and s = 1 (conditional)."""

import math

import torch
from difflearn import pretrained
from difflearn.data import tokenize
from difflearn.pipeline import guided
from difflearn.schedules import NoiseScheduleVP
from difflearn.training.text_to_image import make_caption_batch_fn

# a toy set: latent i is filled with the value i, its caption names the digit i % 10
n = 500
latents = torch.arange(n, dtype=torch.float32)[:, None, None, None].expand(n, 4, 8, 8)
tokens = tokenize([f"a red {i % 10}" for i in range(n)])
batch_fn = make_caption_batch_fn(latents, tokens, NoiseScheduleVP("linear"), 0.1)
batch = batch_fn(torch.Generator().manual_seed(0), 20_000)
empty = (batch["y"] == tokenize("")).all(1)
rate = float(empty.double().mean())
print(f"empty captions: {rate:.4f} (want 0.1 +- {4 * math.sqrt(0.09 / 20_000):.4f})")
assert abs(rate - 0.1) < 4 * math.sqrt(0.1 * 0.9 / 20_000)
which = batch["x0"][:, 0, 0, 0].long()  # the index of each drawn latent
assert torch.equal(batch["y"][~empty], tokens[which[~empty]])  # pairs stay paired

# guidance on the shipped UNet: s = 0 is the empty caption, s = 1 the caption itself
model, ns, card = pretrained.load("glyphs-unet")
c = model.text_encoder(tokenize(["a large blue 4, upright, on a light background"] * 2))
null = model.text_encoder(tokenize(["", ""]))
z, t = torch.randn(2, 4, 8, 8), torch.tensor([300.0, 700.0])
with torch.no_grad():
    u_c, u_null = model.denoiser(z, t, c), model.denoiser(z, t, null)
    assert torch.allclose(guided(model.denoiser, c, null, 0.0)(z, t), u_null, atol=1e-5)
    assert torch.allclose(guided(model.denoiser, c, null, 1.0)(z, t), u_c, atol=1e-5)
    s = 3.0
    want = u_null + s * (u_c - u_null)
    assert torch.allclose(guided(model.denoiser, c, null, s)(z, t), want, atol=1e-5)
print(f"trained with caption dropout {card['caption_dropout']}")
