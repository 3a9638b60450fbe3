"""Exercise: the straight-line field of a linear coupling z -> M z.

On x_t = ((1 - t) M + t I) z the velocity is (I - M) z at every t, so
v(x, t) = (I - M) ((1 - t) M + t I)^(-1) x; one Euler step from t = 1 gives M z exactly
and the straightness is zero.
"""

import torch
from difflearn.fewstep import straightness
from difflearn.samplers import flow_euler, flow_timesteps

M = torch.tensor([[1.5, 0.3], [-0.2, 0.6]], dtype=torch.float64)
eye = torch.eye(2, dtype=torch.float64)


def v(x, t):
    A = (1 - float(t[0])) * M + float(t[0]) * eye
    return torch.linalg.solve(A, x.T).T @ (eye - M).T


z = torch.randn(100, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
one = flow_euler(v, z, flow_timesteps(1))
_, S = straightness(v, z, flow_timesteps(50))
print(
    f"one Euler step: max error {(one - z @ M.T).abs().max():.1e}; max S {S.max():.1e}"
)
assert torch.allclose(one, z @ M.T, atol=1e-12) and float(S.max()) < 1e-20
