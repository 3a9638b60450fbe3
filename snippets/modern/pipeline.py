"""Prompt to image with both shipped pipelines (UNet + VP noise prediction, and
DiT + rectified flow), judged by the independent reader; and the pipeline's errors."""

import torch
from difflearn import pretrained
from difflearn.data import parse_caption
from difflearn.glyph_metrics import attribute_accuracy
from difflearn.pipeline import text_to_image

vae = pretrained.load("glyphs-vae")[0]
prompts = [
    "a large red 3, upright, on a dark background",
    "a small blue 7, rotated left, on a light background",
    "a large yellow 0, rotated right, on a dark background",
    "a small green 5, upright, on a light background",
] * 8  # 32 images
asked = [parse_caption(p) for p in prompts]
wanted = {k: torch.tensor([a[k] for a in asked]) for k in asked[0]}
for name, method in (("glyphs-unet", "dpmsolver++"), ("glyphs-dit", "euler")):
    model, schedule, card = pretrained.load(name)
    images = text_to_image(prompts, vae, model, schedule, steps=20, method=method)
    assert images.shape == (32, 3, 32, 32) and torch.isfinite(images).all()
    acc = attribute_accuracy(images, wanted)
    print(name, acc)
    assert acc["colour"] > 0.9 and acc["background"] > 0.9  # chance: 1/6 and 1/2
    assert acc["glyph"] > 0.5  # chance: 1/10

try:
    text_to_image("a purple 3", vae, model, schedule)
except ValueError as err:
    print(err)
    assert "['purple']" in str(err)
