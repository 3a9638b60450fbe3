"""Exercise: the small-sample bias of the digits-FID.

Two disjoint sets of real digits come from the same distribution, so their true distance
is 0; the estimate from n images per side is biased upwards, roughly like 1/n. Compare
at 100, 300 and 898 images per side (averaged over a few random splits).
"""

import torch
from difflearn.data import load_digits
from difflearn.metrics import digits_fid

real, _ = load_digits(8)
fids = {}
for n in (100, 300, 898):
    runs = []
    for seed in range(3):
        perm = torch.randperm(len(real), generator=torch.Generator().manual_seed(seed))
        runs.append(digits_fid(real[perm[:n]], real[perm[n : 2 * n]]))
    fids[n] = sum(runs) / len(runs)
print({n: round(v, 2) for n, v in fids.items()})
assert fids[100] > fids[300] > fids[898] > 0
assert fids[100] > 2 * fids[898]  # the bias dominates at small n
