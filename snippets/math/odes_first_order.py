"""First-order equations: each closed form against a tight numerical solve.

Four worked examples from docs/math/odes.md, one per technique. Every closed
form is compared with scipy's adaptive Runge-Kutta solver run at
rtol = atol = 1e-12; they must agree to 1e-8.
"""

import numpy as np
from scipy.integrate import solve_ivp


def check(name, rhs, x_span, y0, closed_form, tol=1e-8):
    xs = np.linspace(*x_span, 50)
    sol = solve_ivp(
        rhs, x_span, [y0], t_eval=xs, method="DOP853", rtol=1e-12, atol=1e-12
    )
    err = np.max(np.abs(sol.y[0] - closed_form(xs)))
    print(f"{name:<14} max |closed form - numerical| = {err:.1e}")
    assert err < tol, (name, err)


# separable: y' = x (1 + y^2)  ->  arctan y = x^2/2 + C
y0 = 0.5
check(
    "separable",
    lambda x, y: x * (1 + y**2),
    (0.0, 1.2),
    y0,
    lambda x: np.tan(x**2 / 2 + np.arctan(y0)),
)

# first-order linear: y' + 2x y = x  ->  integrating factor e^{x^2}
y0 = 2.0
check(
    "linear",
    lambda x, y: x - 2 * x * y,
    (0.0, 3.0),
    y0,
    lambda x: 0.5 + (y0 - 0.5) * np.exp(-(x**2)),
)

# Bernoulli: y' + y = x y^3  ->  z = y^{-2} solves z' - 2z = -2x
# z = x + 1/2 + C e^{2x}, and y(0) = 1 gives C = 1/2
check(
    "Bernoulli",
    lambda x, y: x * y**3 - y,
    (0.0, 2.0),
    1.0,
    lambda x: (x + 0.5 + 0.5 * np.exp(2 * x)) ** -0.5,
)

# homogeneous: y' = x/y + y/x  ->  u = y/x gives u u' = 1/x, u^2 = 2 ln x + C
# y(1) = 1 gives C = 1
check(
    "homogeneous",
    lambda x, y: x / y + y / x,
    (1.0, 3.0),
    1.0,
    lambda x: x * np.sqrt(1 + 2 * np.log(x)),
)
