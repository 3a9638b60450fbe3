"""The Laplace-transform method on y'' - y = e^{-x}, y(0) = a, y'(0) = b.

Transforming gives (s^2 - 1) Y - s a - b = 1/(s + 1), so
Y(s) = (s a + b)/(s^2 - 1) + 1/((s - 1)(s + 1)^2), and partial fractions give
y(x) = a cosh x + b sinh x + e^x/4 - e^{-x}/4 - x e^{-x}/2.
We check (1) the partial fractions at a few s, (2) the transform of the
closed form by numerical integration, (3) the ODE by solve_ivp.
"""

import numpy as np
from scipy.integrate import quad, solve_ivp

a, b = 1.0, -0.5


def y_closed(x):
    return (
        a * np.cosh(x)
        + b * np.sinh(x)
        + np.exp(x) / 4
        - np.exp(-x) / 4
        - x * np.exp(-x) / 2
    )


def Y(s):  # the transform solved algebraically
    return (s * a + b) / (s**2 - 1) + 1 / ((s - 1) * (s + 1) ** 2)


# (1) partial fractions: 1/((s-1)(s+1)^2) = (1/4)/(s-1) - (1/4)/(s+1) - (1/2)/(s+1)^2
for s in (1.5, 2.0, 5.0):
    pf = 0.25 / (s - 1) - 0.25 / (s + 1) - 0.5 / (s + 1) ** 2
    assert abs(pf - 1 / ((s - 1) * (s + 1) ** 2)) < 1e-14

# (2) the Laplace transform of the closed form, by quadrature, equals Y(s)
# (needs s > 1); the integrand decays like x e^{-(s-1)x}, so [0, 80] holds all of it
# to double precision
for s in (2.0, 3.0):
    val, _ = quad(
        lambda x, s=s: np.exp(-s * x) * y_closed(x),
        0,
        80,
        epsabs=1e-13,
        epsrel=1e-13,
        limit=200,
    )
    print(f"s = {s}: quad {val:.12f}  algebra {Y(s):.12f}")
    assert abs(val - Y(s)) < 1e-9

# (3) the closed form solves the initial value problem
xs = np.linspace(0.0, 3.0, 31)
sol = solve_ivp(
    lambda x, u: [u[1], u[0] + np.exp(-x)],
    (0.0, 3.0),
    [a, b],
    t_eval=xs,
    method="DOP853",
    rtol=1e-12,
    atol=1e-12,
)
err = np.max(np.abs(sol.y[0] - y_closed(xs)))
print(f"max |closed form - solve_ivp| = {err:.1e}")
assert err < 1e-9
