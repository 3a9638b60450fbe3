"""Second-order constant-coefficient equations, solved through a first-order system.

y'' + a y' + b y = 0 becomes (y, y')' = [[0, 1], [-b, -a]] (y, y'). The closed
forms for the three kinds of characteristic roots (docs/math/odes.md) are
checked against solve_ivp at rtol = atol = 1e-12.
"""

import numpy as np
from scipy.integrate import solve_ivp

xs = np.linspace(0.0, 4.0, 41)


def numerical(a, b, y0, dy0):
    # reduction of order: state u = (y, y'), u' = (y', -a y' - b y)
    rhs = lambda x, u: [u[1], -a * u[1] - b * u[0]]
    return solve_ivp(
        rhs, (0.0, 4.0), [y0, dy0], t_eval=xs, method="DOP853", rtol=1e-12, atol=1e-12
    ).y[0]


cases = {
    # y'' - 3y' + 2y = 0: r = 1, 2 (real, distinct);
    # y(0) = 1, y'(0) = 0 -> C1 + C2 = 1, C1 + 2 C2 = 0
    "real roots": ((-3.0, 2.0), 2 * np.exp(xs) - np.exp(2 * xs)),
    # y'' + 2y' + y = 0: r = -1 (double); y = (C1 + C2 x) e^{-x}, C1 = 1, C2 - C1 = 0
    "repeated root": ((2.0, 1.0), (1 + xs) * np.exp(-xs)),
    # y'' + 2y' + 5y = 0: r = -1 +- 2i; y = e^{-x}(C1 cos 2x + C2 sin 2x),
    # C1 = 1, -C1 + 2 C2 = 0
    "complex roots": (
        (2.0, 5.0),
        np.exp(-xs) * (np.cos(2 * xs) + 0.5 * np.sin(2 * xs)),
    ),
}
for name, ((a, b), closed) in cases.items():
    roots = np.roots([1.0, a, b])
    err = np.max(np.abs(numerical(a, b, 1.0, 0.0) - closed))
    print(f"{name:<14} roots {np.round(roots, 6)}  max error {err:.1e}")
    assert err < 1e-8 * max(1.0, np.max(np.abs(closed))), (name, err)
