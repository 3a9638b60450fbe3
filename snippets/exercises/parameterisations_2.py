"""Exercise: EDM's loss weight, in the units of the eps error.

EDM's loss lambda(sigma) ||D - x0||^2 with lambda = (sigma^2 + sigma_data^2) /
(sigma sigma_data)^2; an eps error moves D by sigma (D = x - sigma eps-hat), so the
weight on ||eps-hat - eps||^2 is lambda sigma^2 = 1 + sigma^2 / sigma_data^2
= 1 + e^{-2 lambda} / sigma_data^2: the v-MSE's weight 1 + 1/SNR, with the SNR measured
against data of unit variance. Reference: edm_loss of a denoiser off by exactly sigma.
"""

import torch
from difflearn.training.edm import EDMDenoiser, edm_loss

sigma_data = 0.5
sigma = torch.tensor([0.01, 0.1, 0.5, 1.0, 10.0], dtype=torch.float64)
batch = {
    "x0": torch.zeros(5, 1, dtype=torch.float64),
    "sigma": sigma,
    "eps": torch.zeros(5, 1, dtype=torch.float64),
}
den = EDMDenoiser(torch.nn.Identity(), sigma_data)
den.forward = lambda x, s, y=None: x - s[:, None] * 1.0  # eps-hat = eps + 1
w = edm_loss(den, batch, reduction="none")
predicted = 1 + sigma**2 / sigma_data**2
print("weight on the eps error:", [round(v, 4) for v in w.tolist()])
assert torch.allclose(w, predicted, rtol=1e-12)
