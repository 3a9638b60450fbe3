"""Euler-Maruyama on geometric Brownian motion: strong order 1/2, weak order 1, and
Ito's lemma.

dX = mu X dt + s X dW, X_0 = 1. Ito's lemma for log X gives the exact solution
X_T = exp((mu - s^2/2) T + s W_T). We reuse one fine Brownian path per sample
for every step size, so the strong error E|X_T - X_T^EM| is measured path by path.
"""

import numpy as np

rng = np.random.default_rng(0)
mu, s, T, M = 2.0, 1.0, 1.0, 4000
n_fine = 2**10
dW_fine = rng.standard_normal((M, n_fine)) * np.sqrt(T / n_fine)
W_T = dW_fine.sum(axis=1)
exact = np.exp((mu - 0.5 * s**2) * T + s * W_T)  # Ito's lemma
naive = np.exp(mu * T + s * W_T)  # forgetting the -s^2/2 term

hs, strong = [], []
for p in range(3, 9):
    n = 2**p
    dW = dW_fine.reshape(M, n, n_fine // n).sum(axis=2)  # the same path, coarser grid
    h, X = T / n, np.ones(M)
    for k in range(n):
        X = X + mu * X * h + s * X * dW[:, k]
    hs.append(h)
    strong.append(np.mean(np.abs(X - exact)))
    # weak error: E[X^EM_T] = (1 + mu h)^n exactly, while E[X_T] = e^{mu T}
    assert abs(X.mean() - (1 + mu * h) ** n) < 5 * X.std() / np.sqrt(M)
    if n == 256:
        print(
            f"h = 1/256: E|X - exact| = {strong[-1]:.3f},  "
            f"E|X - naive| = {np.mean(np.abs(X - naive)):.3f}"
        )
        assert np.mean(np.abs(X - naive)) > 5 * strong[-1]

strong_order = np.polyfit(np.log(hs), np.log(strong), 1)[0]
ns_ = 2 ** np.arange(3, 12)
weak = np.abs((1 + mu * T / ns_) ** ns_ - np.exp(mu * T))  # exact, no sampling
weak_order = np.polyfit(np.log(T / ns_), np.log(weak), 1)[0]
print(f"strong order {strong_order:.2f} (1/2), weak order {weak_order:.2f} (1)")
assert 0.35 < strong_order < 0.65
assert 0.9 < weak_order < 1.1
