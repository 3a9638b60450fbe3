"""Reflow on the 2-D mixture ring8: straighter paths, and one Euler step that works.

Both shipped flows start from the same noise. ring8-rf1 was trained on independent
pairs; ring8-rf2 was reflowed on the pairs (z, end of ring8-rf1's ODE path).
1. Straightness S (64 Euler steps) falls several-fold with reflow.
2. Reflow keeps the coupling: one Euler step of ring8-rf2 lands near the end of
   ring8-rf1's 64-step path, far nearer than one Euler step of ring8-rf1.
"""

import torch
from difflearn import pretrained
from difflearn.fewstep import straightness, velocity_fn
from difflearn.samplers import flow_euler, flow_timesteps

rf1, rf2 = (
    velocity_fn(pretrained.load(name)[0]) for name in ("ring8-rf1", "ring8-rf2")
)
z = torch.randn(2000, 2, generator=torch.Generator().manual_seed(0))
with torch.no_grad():
    end_rf1, S1 = straightness(rf1, z, flow_timesteps(64))
    _, S2 = straightness(rf2, z, flow_timesteps(64))
    one_rf1 = flow_euler(rf1, z, flow_timesteps(1))
    one_rf2 = flow_euler(rf2, z, flow_timesteps(1))
print(f"straightness: 1-rectified {S1.mean():.3f}, reflowed {S2.mean():.3f}")
assert S2.mean() < S1.mean() / 3


def rms(x):
    return float((x - end_rf1).pow(2).sum(1).mean().sqrt())


print(
    f"one Euler step vs rf1's 64-step end: "
    f"rf1 {rms(one_rf1):.3f}, rf2 {rms(one_rf2):.3f}"
)
assert rms(one_rf2) < 0.5 * rms(one_rf1)
