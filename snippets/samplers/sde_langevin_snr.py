"""Langevin steps at a fixed t keep p_t: with the step-size rule at snr 0.16 the moments
stay put.
"""

import torch
from difflearn import GaussianMixture, NoiseScheduleVP
from difflearn.samplers import predictor_corrector

ns = NoiseScheduleVP("linear")
gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2])
t = torch.tensor(0.3, dtype=torch.float64)
p_t = gm.marginal(ns, t)  # the exact noisy distribution at t, itself a mixture
x = p_t.sample(20_000, torch.Generator().manual_seed(0))
ref = p_t.sample(200_000, torch.Generator().manual_seed(1))
grid = torch.stack(
    [t, t - 1e-9]
)  # one negligible predictor step: the corrector does the work

std_error = {}
for snr in (0.16, 1.0):
    out = predictor_corrector(
        gm.noise_fn(ns),
        x,
        ns,
        grid,
        snr=snr,
        n_corrector=20,
        denoise_to_zero=False,
        generator=torch.Generator().manual_seed(2),
    )
    std_error[snr] = (out.std(0) - ref.std(0)).abs().max().item()
    print(
        f"snr {snr}: 20 Langevin steps, std {out.std(0).tolist()} "
        f"vs exact {ref.std(0).tolist()}"
    )
assert std_error[0.16] < 0.03  # p_t is (nearly) invariant: Monte Carlo error ~0.01
assert std_error[1.0] > 0.3  # too large a step leaves p_t: the samples spread out
