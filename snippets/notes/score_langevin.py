r"""Langevin dynamics reaches a known density; annealing fixes the mode weights it
cannot find alone.

Unadjusted Langevin: x <- x + (delta / 2) grad log p(x) + sqrt(delta) z. Particles are
seeded; tolerances:
1. on a mixture with overlapping modes, 4000 particles started from N(0, 3^2 I) reach
   the target: component weights within 0.03 and per-coordinate mean and std within
   0.05;
2. on two far-apart modes with weights 0.2 / 0.8, plain Langevin from a broad start
   keeps the weights of its starting basins (about 0.5 / 0.5, off by more than 0.2),
   while annealed Langevin (Song & Ermon, 2019, Algorithm 1: noise levels
   sigma_1 > ... > sigma_L, step alpha_i = eps sigma_i^2 / sigma_L^2) recovers
   0.2 / 0.8 within 0.03 (its small remaining bias, about +0.01 on the small mode,
   comes from the finite number of steps per noise level).
"""

import math

import torch
from difflearn.data import GaussianMixture

g = torch.Generator().manual_seed(0)
n = 4000


def langevin(score, x, delta, steps):
    for _ in range(steps):
        x = (
            x
            + 0.5 * delta * score(x)
            + math.sqrt(delta) * torch.randn(x.shape, generator=g, dtype=x.dtype)
        )
    return x


def weights_of(gm, x):  # E[p(k | x)] = w_k when x follows the mixture
    return gm.class_posterior(x, None, None).mean(0)


# 1. plain Langevin on a mixture whose modes overlap
gm = GaussianMixture([[-1.0, 0.0], [1.0, 0.5]], [0.6, 0.8], [0.35, 0.65])
x = langevin(
    lambda x: gm.score(x, None, None),
    3.0 * torch.randn(n, 2, generator=g, dtype=torch.float64),
    delta=0.05,
    steps=300,
)
ref = gm.sample(200_000, generator=g)  # reference moments of the target
print(
    "Langevin, overlapping modes: weights",
    [round(v, 3) for v in weights_of(gm, x).tolist()],
    "mean",
    [round(v, 3) for v in x.mean(0).tolist()],
    "target",
    [round(v, 3) for v in ref.mean(0).tolist()],
)
assert (weights_of(gm, x) - gm.weights).abs().max() < 0.03
assert (x.mean(0) - ref.mean(0)).abs().max() < 0.05 and (
    x.std(0) - ref.std(0)
).abs().max() < 0.05

# 2. two far-apart modes: the plain chain cannot cross, the annealed one can
means, stds, w = (
    [[-4.0, 0.0], [4.0, 0.0]],
    0.5,
    torch.tensor([0.2, 0.8], dtype=torch.float64),
)
far = GaussianMixture(means, stds, w)
start = (
    torch.rand(n, 2, generator=g, dtype=torch.float64) * 16 - 8
)  # uniform on [-8, 8]^2
plain = langevin(lambda x: far.score(x, None, None), start, delta=0.01, steps=1000)


def noised(sigma):  # the data convolved with N(0, sigma^2 I): again a mixture
    return GaussianMixture(means, math.sqrt(stds**2 + sigma**2), w)


sigmas = torch.logspace(
    math.log10(20.0), math.log10(0.05), 20
).tolist()  # sigma_1 = 20 ... sigma_L = 0.05
eps = 0.2 * sigmas[-1] ** 2  # so that every level takes steps of 0.2 sigma_i^2
x = start
for sigma in sigmas:
    p_sigma = noised(sigma)
    x = langevin(
        lambda x, p=p_sigma: p.score(x, None, None),
        x,
        delta=eps * sigma**2 / sigmas[-1] ** 2,
        steps=50,
    )
w_plain, w_annealed = weights_of(far, plain), weights_of(far, x)
print(
    f"far modes, weights 0.2 / 0.8: plain Langevin {w_plain[0]:.3f} / {w_plain[1]:.3f},"
    f" annealed {w_annealed[0]:.3f} / {w_annealed[1]:.3f}"
)
assert (w_plain - w).abs().max() > 0.2
assert (w_annealed - w).abs().max() < 0.03
