"""The digits-FID ranks real data, model samples and noise in the expected order."""

import torch
from difflearn import model_wrapper, sample
from difflearn.data import load_digits, split
from difflearn.metrics import digits_fid
from difflearn.pretrained import load

real, _ = load_digits(8)  # (1797, 1, 8, 8) in [-1, 1]
half_a, half_b = split(len(real), 0.5, seed=0)  # two disjoint halves
model, ns, card = load("digits-uncond")

x_T = torch.randn(500, 1, 8, 8, generator=torch.Generator().manual_seed(0))
with torch.no_grad():
    x_0 = sample(
        model_wrapper(model, ns), x_T, ns, method="dpmsolver++", order=2, steps=10
    )

fid_real = digits_fid(
    real[half_a], real[half_b]
)  # the floor: finite samples of the same data
fid_model = digits_fid(real, x_0)  # 500 samples, 10 model evaluations
fid_noise = digits_fid(real, x_T.clamp(-1, 1))  # the starting noise itself
print(
    f"real vs real {fid_real:.2f}   model (NFE 10) {fid_model:.2f}   "
    f"noise {fid_noise:.2f}"
)
assert fid_real < fid_model < fid_noise / 5
