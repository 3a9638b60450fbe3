"""The Fokker-Planck equation of an Ornstein-Uhlenbeck process, solved as a PDE.

dX = -theta X dt + g dW has the Fokker-Planck equation
    dp/dt = d/dx (theta x p) + (g^2 / 2) d^2p/dx^2.
Starting from a two-component Gaussian mixture, the exact p_t is again a
mixture: each component keeps its weight, its mean decays like e^{-theta t}
and its variance moves towards g^2 / (2 theta) (the linear-SDE moment
equations). We discretise x with central differences, so the PDE becomes a
linear ODE p' = L p solved exactly by the matrix exponential
(expm_multiply), and compare with the closed form; then we compare an
Euler-Maruyama simulation with the same closed form.
"""

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import expm_multiply
from scipy.stats import norm

theta, g, t = 1.0, 0.8, 0.7
w, m, s = np.array([0.3, 0.7]), np.array([-2.0, 1.5]), np.array([0.3, 0.5])


def p_exact(x, t):
    mean = m * np.exp(-theta * t)
    var = s**2 * np.exp(-2 * theta * t) + g**2 / (2 * theta) * (
        1 - np.exp(-2 * theta * t)
    )
    return (w * norm.pdf(x[:, None], mean, np.sqrt(var))).sum(axis=1)


# grid and the operator L p = d/dx(theta x p) + g^2/2 p''  (p ~ 0 at the far ends)
x = np.linspace(-6.0, 6.0, 1201)
dx = x[1] - x[0]
n = len(x)
D1 = sp.diags([-1, 1], [-1, 1], shape=(n, n), dtype=float) / (2 * dx)
D2 = sp.diags([1, -2, 1], [-1, 0, 1], shape=(n, n), dtype=float) / dx**2
L = (D1 @ sp.diags(theta * x) + 0.5 * g**2 * D2).tocsr()

p_t = expm_multiply(L * t, p_exact(x, 0.0))
err = np.max(np.abs(p_t - p_exact(x, t)))
mass = p_t.sum() * dx
print(f"PDE solve vs closed form: max error {err:.1e}, mass {mass:.6f}")
assert err < 1e-4 and abs(mass - 1) < 1e-6

# the same density from particles: Euler-Maruyama, 20000 paths, 700 steps
rng = np.random.default_rng(0)
M, steps = 20000, 700
k = rng.choice(2, size=M, p=w)
X = m[k] + s[k] * rng.standard_normal(M)
h = t / steps
for _ in range(steps):
    X = X - theta * X * h + g * np.sqrt(h) * rng.standard_normal(M)
# compare probabilities of 12 bins: each has a binomial standard error sqrt(P(1-P)/M)
edges = np.linspace(-4, 4, 13)
P_mc = np.histogram(X, edges)[0] / M
mean = m * np.exp(-theta * t)
sd = np.sqrt(
    s**2 * np.exp(-2 * theta * t) + g**2 / (2 * theta) * (1 - np.exp(-2 * theta * t))
)
cdf = (w * norm.cdf(edges[:, None], mean, sd)).sum(axis=1)
P_exact = np.diff(cdf)
z = np.abs(P_mc - P_exact) / np.sqrt(P_exact * (1 - P_exact) / M + 1e-12)
print(
    f"Euler-Maruyama histogram vs closed form: largest |z| over 12 bins = {z.max():.2f}"
)
assert z.max() < 4.5
