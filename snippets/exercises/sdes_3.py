"""Exercise: moments from Ito's lemma, without solving anything.

d(W^4) = 4 W^3 dW + 6 W^2 dt, and the dW term has mean zero, so E W_t^4 = int_0^t 6 s ds
= 3 t^2. d(e^W) = e^W dW + e^W dt / 2, so m(t) = E e^{W_t} solves m' = m / 2: E e^{W_t}
= e^{t/2} (not 1, as the ordinary chain rule would suggest). Check both by Monte Carlo.
"""

import numpy as np

rng = np.random.default_rng(0)
M, N, T = 200_000, 100, 2.0
W = np.zeros(M)
for k in range(1, N + 1):  # Brownian paths, step T/N
    W += rng.standard_normal(M) * np.sqrt(T / N)
    t = k * T / N
    if k in (25, 50, 100):
        w4, ew = W**4, np.exp(W)
        print(
            f"t = {t}: E W^4 = {w4.mean():.3f} (3t^2 = {3 * t * t:.3f}), "
            f"E e^W = {ew.mean():.4f} (e^(t/2) = {np.exp(t / 2):.4f})"
        )
        assert abs(w4.mean() - 3 * t * t) < 5 * w4.std() / np.sqrt(M)
        assert abs(ew.mean() - np.exp(t / 2)) < 5 * ew.std() / np.sqrt(M)
