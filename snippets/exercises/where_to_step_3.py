"""Exercise 3: the dynamic programme returns the cheapest of all N-step paths."""

import itertools

import torch
from difflearn import GaussianMixture, NoiseScheduleVP
from difflearn.samplers import calibrate
from difflearn.samplers.grid_costs import local_error_costs, shortest_path

ns = NoiseScheduleVP("linear")
gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2])
x = torch.randn(64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
ref = calibrate(gm.noise_fn(ns), x, ns, 1.0, 1e-3, candidates=12, substeps=16)
C = local_error_costs(ref.cand, ref.states, ref.x0_preds)  # (13, 13), GITS's costs
M, N = len(C) - 1, 4


def cost(path):
    return sum(C[a, b] for a, b in zip(path, path[1:]))


dp = shortest_path(C, N)
brute = min(
    ((0, *mid, M) for mid in itertools.combinations(range(1, M), N - 1)), key=cost
)
print("DP:", dp, f"{cost(dp):.5f}", " brute force:", list(brute), f"{cost(brute):.5f}")
assert list(brute) == dp  # 165 paths checked, O(N M^2) work instead
