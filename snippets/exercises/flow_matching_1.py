"""Exercise: rectified flow between two Gaussians, in closed form. Straight paths?

x_t = (1 - t) x0 + t eps, x0 ~ N(mu, s^2): x_t ~ N((1 - t) mu, V_t), V_t = (1 - t)^2 s^2
+ t^2, and u = eps - x0 has Cov(u, x_t) = t - (1 - t) s^2, so
    v(x, t) = E[u | x_t = x] = -mu + (t - (1 - t) s^2) / V_t * (x - (1 - t) mu).
The ODE keeps the standardised position z fixed: x(t) = (1 - t) mu + sqrt(V_t) z. The
path is straight only for z = 0: sqrt(V_t) is not linear in t for any s > 0 (reflow's
coupled lines have sd (1 - t) s + t instead). At t = 1/2 the path is off its chord by
(sqrt(s^2 + 1) - s - 1) z / 2. Checks: v against a Monte Carlo regression of u on x_t,
and that bend, on a path solved with scipy.
"""

import numpy as np
from scipy.integrate import solve_ivp


def v(t, x, mu, s2):
    V = (1 - t) ** 2 * s2 + t**2
    return -mu + (t - (1 - t) * s2) / V * (x - (1 - t) * mu)


rng = np.random.default_rng(0)
n, t = 1_000_000, 0.3
for mu, s2 in ((2.0, 0.25), (2.0, 1.0)):
    x0 = mu + np.sqrt(s2) * rng.standard_normal(n)
    eps = rng.standard_normal(n)
    xt, u = (1 - t) * x0 + t * eps, eps - x0
    slope, icpt = np.polyfit(xt, u, 1)
    V = (1 - t) ** 2 * s2 + t**2
    se = np.sqrt((1 + s2 - (t - (1 - t) * s2) ** 2 / V) / (n * V))
    assert abs(slope - (t - (1 - t) * s2) / V) < 5 * se
    assert abs(slope * 0.7 + icpt - v(t, 0.7, mu, s2)) < 5 * se * 3

    # integrate dx/dt = v from noise z = 1 at t = 1 down to t = 0; look at the midpoint
    sol = solve_ivp(
        v, (1.0, 0.0), [1.0], args=(mu, s2), dense_output=True, rtol=1e-11, atol=1e-12
    )
    x_end, x_mid = sol.y[0, -1], sol.sol(0.5)[0]
    bend = x_mid - 0.5 * (1.0 + x_end)  # distance from the chord at t = 1/2
    print(
        f"mu={mu}, s^2={s2}: x(0) = {x_end:.6f} (= mu + s z), bend at t=1/2 {bend:.4f}"
    )
    assert abs(x_end - (mu + np.sqrt(s2))) < 1e-8
    assert abs(bend - (np.sqrt(s2 + 1) - np.sqrt(s2) - 1) / 2) < 1e-8
