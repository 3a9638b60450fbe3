"""One entry point for every sampler; the registry says what each one is."""

import torch
from difflearn import METHODS, GaussianMixture, NoiseScheduleVP, sample

ns = NoiseScheduleVP("linear")
gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2])
x_T = torch.randn(
    256, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
exact = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns)

for name, m in METHODS.items():
    print(f"{name:15s} {m.description}")

errors = {}
for method, kw in (("ddim", {}), ("unipc", {"order": 2}), ("unipc", {"order": 3})):
    out = sample(
        gm.noise_fn(ns),
        x_T,
        ns,
        method=method,
        steps=10,
        skip_type="time_quadratic",
        **kw,
    )
    errors[f"{method}{kw}"] = (out - exact).norm(dim=1).mean().item()
print(errors)
assert errors["unipc{'order': 2}"] < 0.3 * errors["ddim{}"]  # at 10 NFE, order matters
