import torch
from difflearn import model_wrapper, pretrained, sample

unet, ns, card = pretrained.load("digits-uncond")  # a small UNet shipped in the package
x0 = sample(model_wrapper(unet, ns), torch.randn(8, 1, 8, 8), ns, steps=10)  # UniPC
print(x0.shape)  # eight 8x8 digits, pixel values in [-1, 1]
