"""Exercise: no joint law has marginal p(x) and the tilted conditionals (gamma != 1).

A joint would need weights w_y >= 0 with sum_y w_y p(y|x)^gamma = 1 for every x. With
two classes, p = p(1|x) runs over (0, 1): the ends force w_1, w_2 to within d of 1, and
p = 1/2 gives (w_1 + w_2) 2^-gamma. The best uniform miss d is therefore
    d* = (1 - 2^(1 - gamma)) / (1 + 2^(1 - gamma))      (1/3 for gamma = 2),
attained at w_1 = w_2 = 1 + d*. Check: the best weights by linear programming (minimise
d subject to |A w - 1| <= d on a grid of x) for two and for three classes.
"""

import numpy as np
import torch
from difflearn import GaussianMixture
from scipy.optimize import linprog


def best_miss(gm, gamma):
    x = torch.linspace(-9, 9, 3001, dtype=torch.float64)[:, None]
    A = gm.class_posterior(x, 0.0, None).numpy() ** gamma  # (G, K)
    G, K = A.shape
    c = np.r_[np.zeros(K), 1.0]  # minimise d
    ones = np.ones((G, 1))
    A_ub = np.r_[np.c_[A, -ones], np.c_[-A, -ones]]
    b_ub = np.r_[np.ones(G), -np.ones(G)]
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=[(0, None)] * (K + 1))
    return res.x[K], res.x[:K]


for gamma in (2.0, 4.0):
    closed = (1 - 2 ** (1 - gamma)) / (1 + 2 ** (1 - gamma))
    d2, w2 = best_miss(GaussianMixture([[-2.0], [2.0]], 0.5), gamma)
    d3, w3 = best_miss(GaussianMixture([[-2.0], [0.0], [2.0]], 0.5), gamma)
    print(
        f"gamma = {gamma}: d* = {closed:.4f}; "
        f"two classes {d2:.4f} (w = {w2.round(3)}), "
        f"three classes {d3:.4f}"
    )
    assert abs(d2 - closed) < 1e-3 and np.allclose(w2, 1 + closed, atol=1e-2)
    assert d3 > closed - 1e-3

# gamma = 1 is a classifier: w = 1 works exactly
assert best_miss(GaussianMixture([[-2.0], [0.0], [2.0]], 0.5), 1.0)[0] < 1e-9
