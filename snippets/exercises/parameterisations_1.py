"""Exercise: min-SNR-gamma for a v-prediction model.

Hang et al. (2023) weight the x0 error by min(SNR, gamma). A v head's own MSE is
(SNR + 1) times the x0 error (VP), so the weight on the v-MSE is
    min(SNR, gamma) / (SNR + 1),
about SNR at low SNR, 1/2 at SNR = 1 and gamma / SNR at high SNR. Reference: that
formula against the
per-sample weights the library applies (the loss of a head that is off by 1 in v).
"""

import torch
from difflearn import NoiseScheduleVP
from difflearn.training import make_batch_fn
from difflearn.training.parameterisations import head_target, parameterised_loss

ns = NoiseScheduleVP("linear", dtype=torch.float64)
g = torch.Generator().manual_seed(0)
batch = make_batch_fn(torch.zeros(2000, 1, dtype=torch.float64), ns)(g, 2000)
a, s = batch["alpha"], batch["sigma"]
v_true = head_target("v", batch["x0"], batch["eps"], a, s)
per = parameterised_loss(
    lambda x, t: v_true + 1.0,
    ns,
    batch,
    prediction="v",
    weighting="min_snr",
    gamma=5.0,
    reduction="none",
)
snr = (a / s) ** 2
predicted = torch.clamp(snr, max=5.0) / (snr + 1)
assert torch.allclose(per, predicted, rtol=1e-10)
for lo, hi in ((0, 0.1), (0.9, 1.1), (20, 1e9)):
    m = (snr > lo) & (snr < hi)
    print(f"SNR in ({lo}, {hi:g}): weight on the v-MSE {per[m].mean():.3f}")
