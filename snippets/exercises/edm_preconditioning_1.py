"""Exercise: what the preconditioned denoiser does when the network outputs nothing.

With F = 0, D(x; sigma) = c_skip(sigma) x: the identity (the best guess for tiny noise)
as sigma -> 0, and 0 (the mean of zero-mean data) as sigma -> infinity. The skip and the
network carry equal weight, c_skip = 1/2, exactly at sigma = sigma_data.
Reference: the closed forms c_skip = sigma_data^2 / (sigma^2 + sigma_data^2).
"""

import torch
from difflearn.training.edm import EDMDenoiser, edm_preconditioning

sigma_data = 0.5
den = EDMDenoiser(lambda x, c: torch.zeros_like(x), sigma_data)
x = torch.randn(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
for sigma, expected in ((1e-4, x), (sigma_data, 0.5 * x), (1e4, 0 * x)):
    d = den(x, torch.tensor(sigma, dtype=torch.float64))
    print(f"sigma = {sigma:g}: D / x = {(d / x).mean().item():.6f}")
    assert torch.allclose(d, expected, atol=1e-7)
c_skip = edm_preconditioning(torch.tensor(sigma_data, dtype=torch.float64), sigma_data)[
    0
]
assert abs(float(c_skip) - 0.5) < 1e-15
