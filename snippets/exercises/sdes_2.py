"""Exercise: Euler-Maruyama's stationary variance for an Ornstein-Uhlenbeck process.

dX = -theta X dt + s dW has stationary variance s^2 / (2 theta) (moment equation P' = -2
theta P + s^2). The scheme X' = (1 - theta h) X + s sqrt(h) z is a linear recursion with
V = (1 - theta h)^2 V + s^2 h, so
    V_h = s^2 / (theta (2 - theta h)),
first-order wrong in h. Predict 0.526, 0.667, 1.0 for theta = s = 1 and h = 0.1, 0.5, 1.
"""

import numpy as np

rng = np.random.default_rng(0)
theta, s, n = 1.0, 1.0, 200_000
for h in (0.1, 0.5, 1.0):
    x = rng.standard_normal(n) * np.sqrt(s**2 / (2 * theta))  # start at the true law
    for _ in range(int(30 / (theta * h)) + 5):
        x = (1 - theta * h) * x + s * np.sqrt(h) * rng.standard_normal(n)
    V = s**2 / (theta * (2 - theta * h))
    print(f"h = {h}: variance {x.var():.4f}, predicted {V:.4f}, exact SDE 0.5")
    assert abs(x.var() - V) < 5 * V * np.sqrt(2 / n)
