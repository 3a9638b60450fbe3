"""Exercise: the logistic equation y' = y (1 - y) as a Bernoulli equation.

n = 2, p = -1, q = -1: z = 1 / y solves z' + z = 1, so z = 1 + (1/y0 - 1) e^{-x} and
    y(x) = 1 / (1 + (1/y0 - 1) e^{-x}).
Check against solve_ivp at 1e-12 tolerances, for starts below and above the fixed point
1.
"""

import numpy as np
from scipy.integrate import solve_ivp

x = np.linspace(0, 6, 61)
for y0 in (0.05, 0.5, 2.0):
    closed = 1 / (1 + (1 / y0 - 1) * np.exp(-x))
    sol = solve_ivp(
        lambda _, y: y * (1 - y),
        (0, 6),
        [y0],
        t_eval=x,
        method="DOP853",
        rtol=1e-12,
        atol=1e-12,
    )
    print(f"y0 = {y0}: y(6) = {closed[-1]:.8f}")
    assert np.abs(sol.y[0] - closed).max() < 1e-10
