"""Exercise: the O(delta) bias of unadjusted Langevin, in closed form.

For N(0, 1), grad log p(x) = -x, so x' = (1 - delta/2) x + sqrt(delta) z, a linear chain
whose stationary variance V solves V = (1 - delta/2)^2 V + delta:
    V = 1 / (1 - delta / 4).
Prediction: 1.026 for delta = 0.1, 1.143 for 0.5, 1.333 for 1. Check with 200,000
chains.
"""

import numpy as np

rng = np.random.default_rng(0)
n = 200_000
for delta in (0.1, 0.5, 1.0):
    x = rng.standard_normal(n)  # start at the target itself
    for _ in range(int(40 / delta)):  # contraction (1 - delta/2) per step
        x = x + 0.5 * delta * (-x) + np.sqrt(delta) * rng.standard_normal(n)
    V = 1 / (1 - delta / 4)
    print(f"delta = {delta}: variance {x.var():.4f}, predicted {V:.4f}")
    assert abs(x.var() - V) < 5 * V * np.sqrt(2 / n)
