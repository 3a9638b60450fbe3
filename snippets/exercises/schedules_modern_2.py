"""Exercise: how much of SD3's training is at SNR < 1?

Logit-normal t with m = 0, s = 1 on the straight path gives lambda ~ N(0, 1): half the
draws at SNR < 1. With the shift a = 3, lambda ~ N(-log 3, 1), so
P(lambda < 0) = Phi(log 3) = Phi(1.0986) = 0.864.
Reference: the normal CDF, against 400 000 draws of sample_t_flow(shift=3).
"""

import math

import torch
from difflearn.training.flow import sample_t_flow

for shift, predicted in (
    (1.0, 0.5),
    (3.0, 0.5 * (1 + math.erf(math.log(3) / math.sqrt(2)))),
):
    t = sample_t_flow(400_000, torch.Generator().manual_seed(0), shift=shift)
    measured = (t > 0.5).double().mean().item()  # lambda < 0 <=> t > 1/2
    print(f"shift {shift:g}: P(SNR < 1) = {measured:.4f} (predicted {predicted:.4f})")
    assert abs(measured - predicted) < 3e-3
