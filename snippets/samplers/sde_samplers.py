"""Each SDE sampler reaches the data distribution (first two moments)
with enough steps.
"""

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, sample

ns = NoiseScheduleVP("linear")
gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2])
eps = gm.noise_fn(ns)
data = gm.sample(200_000, torch.Generator().manual_seed(0))
x = torch.randn(
    4000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
)


def moment_error(method, steps, **kw):
    out = sample(
        eps,
        x,
        ns,
        method,
        steps=steps,
        generator=torch.Generator().manual_seed(2),
        denoise_to_zero=True,
        **kw,
    )
    return max(
        (out.mean(0) - data.mean(0)).abs().max().item(),
        (out.std(0) - data.std(0)).abs().max().item(),
    )


for method, steps, kw in (
    ("euler_maruyama", 500, {"sde": "vp"}),
    ("euler_maruyama", 500, {"sde": "ve"}),
    ("pc", 250, {}),
    ("sde_dpmpp_2m", 50, {}),
):
    e = moment_error(method, steps, **kw)
    print(f"{method} {kw} {steps} steps: moment error {e:.3f}")
    assert e < 0.06  # Monte Carlo noise of 4000 samples is about 0.02
