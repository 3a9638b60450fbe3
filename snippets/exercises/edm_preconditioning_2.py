"""Exercise: where EDM's log-normal sigma puts the training.

ln sigma ~ N(-1.2, 1.2^2), so P(sigma > 1) = P(z > 1) = 1 - Phi(1) = 0.159 and
P(sigma < sigma_data = 0.5) = Phi((ln 0.5 + 1.2) / 1.2) = Phi(0.422) = 0.664: two thirds
of the training is in the regime where the skip connection dominates.
Reference: the normal CDF, against 400 000 draws of sample_sigma_lognormal.
"""

import math

import torch
from difflearn.training.edm import sample_sigma_lognormal

sigma = sample_sigma_lognormal(400_000, torch.Generator().manual_seed(0))


def phi(z):
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


for name, measured, predicted in (
    ("sigma > 1", (sigma > 1).double().mean().item(), 1 - phi(1.0)),
    (
        "sigma < 0.5",
        (sigma < 0.5).double().mean().item(),
        phi((math.log(0.5) + 1.2) / 1.2),
    ),
):
    print(f"P({name}) = {measured:.4f} (predicted {predicted:.4f})")
    assert abs(measured - predicted) < 3e-3
