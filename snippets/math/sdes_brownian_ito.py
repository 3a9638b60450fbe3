"""Brownian motion and the Ito integral, by simulation (seeded).

Checks, with their Monte Carlo tolerances:
1. Var W_t = t and Cov(W_s, W_t) = min(s, t)   (5 standard errors, M = 20000 paths);
2. the quadratic variation sum (dW)^2 over [0, 1] is 1 (one path, 10^6 steps,
   sd 0.0014);
3. the Ito (left-point) sum of W dW is (W_1^2 - 1)/2; the sum with the average of the
   two end points is exactly W_1^2 / 2 (Stratonovich): they differ by half the
   quadratic variation;
4. the Ito isometry E[(int_0^1 W dW)^2] = int_0^1 E[W_t^2] dt = 1/2.
"""

import numpy as np

rng = np.random.default_rng(0)

# 1. M paths on a grid of N steps over [0, 1]
M, N = 20000, 200
dW = rng.standard_normal((M, N)) * np.sqrt(1.0 / N)
W = np.concatenate([np.zeros((M, 1)), np.cumsum(dW, axis=1)], axis=1)  # (M, N + 1)
for k in (50, 100, 200):
    t = k / N
    se = t * np.sqrt(2.0 / M)  # standard error of a sample variance of N(0, t)
    assert abs(W[:, k].var() - t) < 5 * se, (t, W[:, k].var())
cov = np.mean(
    W[:, 100] * W[:, 200]
)  # Cov(W_0.5, W_1) = 0.5, sd of the estimate ~ sqrt(1.25/M)
print(f"Var W_1 = {W[:, -1].var():.4f} (1),  Cov(W_.5, W_1) = {cov:.4f} (0.5)")
assert abs(cov - 0.5) < 5 * np.sqrt(1.25 / M)

# 2.-3. one fine path
n = 10**6
dw = rng.standard_normal(n) * np.sqrt(1.0 / n)
w = np.concatenate([[0.0], np.cumsum(dw)])
qv = np.sum(dw**2)
ito = np.sum(w[:-1] * dw)  # left end point
strat = np.sum(
    0.5 * (w[:-1] + w[1:]) * dw
)  # end-point average: telescopes to w_1^2 / 2
print(
    f"quadratic variation {qv:.4f};  Ito sum {ito:.4f} "
    f"vs (W^2-1)/2 = {(w[-1] ** 2 - 1) / 2:.4f};"
    f"  Stratonovich sum {strat:.4f} vs W^2/2 = {w[-1] ** 2 / 2:.4f}"
)
assert abs(qv - 1.0) < 0.01
assert abs(ito - (w[-1] ** 2 - 1) / 2) < 0.01
assert abs(strat - w[-1] ** 2 / 2) < 1e-9
assert abs((strat - ito) - 0.5) < 0.01

# 4. Ito isometry over the M coarse paths: E[I^2] = 1/2 up to the O(1/N) grid error
I = np.sum(W[:, :-1] * dW, axis=1)
se = np.std(I**2) / np.sqrt(M)
print(f"E[I^2] = {np.mean(I**2):.4f} (0.5),  E[I] = {np.mean(I):.4f} (0)")
assert (
    abs(np.mean(I**2) - 0.5 * (1 - 1.0 / N)) < 5 * se
)  # E[sum W_i^2 dt] = (1 - 1/N) / 2 exactly
assert abs(np.mean(I)) < 5 * np.std(I) / np.sqrt(M)
