"""Linear systems x' = A x (+ b(t)) and the matrix exponential.

Checks, each against solve_ivp at rtol = atol = 1e-12:
1. x(t) = expm(A t) x0, and expm(A t) = V diag(e^{lambda t}) V^{-1};
2. variation of constants: x(t) = e^{At} x0 + int_0^t e^{A(t-s)} b(s) ds;
3. time-varying A(t): exp(int A) is the transition matrix when the A(t) commute,
   and is wrong when they do not.
"""

import numpy as np
from scipy.integrate import quad_vec, solve_ivp
from scipy.linalg import expm

TOL = dict(method="DOP853", rtol=1e-12, atol=1e-12)

# 1. y'' + 3y' + 2y = 0 written as a system: its roots -1, -2 are A's eigenvalues
A = np.array([[0.0, 1.0], [-2.0, -3.0]])
x0 = np.array([1.0, 0.0])
t = 2.0
lam, V = np.linalg.eig(A)
by_eig = (V @ np.diag(np.exp(lam * t)) @ np.linalg.inv(V)).real @ x0
numerical = solve_ivp(lambda s, x: A @ x, (0, t), x0, **TOL).y[:, -1]
print("expm:", expm(A * t) @ x0, " eig:", by_eig, " solve_ivp:", numerical)
assert np.allclose(expm(A * t) @ x0, numerical, atol=1e-10)
assert np.allclose(by_eig, numerical, atol=1e-10)

# 2. forcing b(s) = (0, sin s): variation of constants with the same A
b = lambda s: np.array([0.0, np.sin(s)])
integral, _ = quad_vec(lambda s: expm(A * (t - s)) @ b(s), 0.0, t, epsabs=1e-13)
voc = expm(A * t) @ x0 + integral
numerical = solve_ivp(lambda s, x: A @ x + b(s), (0, t), x0, **TOL).y[:, -1]
print("variation of constants:", voc, " solve_ivp:", numerical)
assert np.allclose(voc, numerical, atol=1e-10)


# 3. time-varying coefficients: the transition matrix Phi(1, 0) from a numerical solve
def transition(A_of_t, t1=1.0):
    cols = [
        solve_ivp(lambda s, x: A_of_t(s) @ x, (0, t1), e, **TOL).y[:, -1]
        for e in np.eye(2)
    ]
    return np.stack(cols, axis=1)


D, N = np.diag([-1.0, -2.0]), np.array([[0.0, 1.0], [0.0, 0.0]])
commuting = lambda s: (1 + s) * D  # every A(s) is a multiple of D
noncommuting = lambda s: D + 3 * s * N  # [A(s), A(r)] = 3 (r - s) [D, N] != 0
err_c = np.abs(expm(1.5 * D) - transition(commuting)).max()  # int_0^1 (1+s) ds = 1.5
err_n = np.abs(
    expm(D + 1.5 * N) - transition(noncommuting)
).max()  # int_0^1 3s ds = 1.5
print(f"exp(int A) vs Phi: commuting {err_c:.1e}, non-commuting {err_n:.1e}")
assert err_c < 1e-10 and err_n > 1e-2
