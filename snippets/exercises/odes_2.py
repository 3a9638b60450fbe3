"""Exercise: the matrix exponential of a rotation generator, from the series.

A = [[0, -w], [w, 0]] has A^2 = -w^2 I, so the even terms of sum (At)^k / k! build
cos(wt) I and the odd ones sin(wt) A / w:
    exp(At) = [[cos wt, -sin wt], [sin wt, cos wt]].
Eigenvalues +-iw: the complex-root case of the characteristic equation. Compare with
scipy.linalg.expm and with the truncated series: how many terms for 1e-12 at wt = 3?
About as many as it takes the first omitted term (wt)^(k+1)/(k+1)! to drop below 1e-12.
"""

import math

import numpy as np
from scipy.linalg import expm

w, t = 1.5, 2.0
A = np.array([[0.0, -w], [w, 0.0]])
closed = np.array(
    [[math.cos(w * t), -math.sin(w * t)], [math.sin(w * t), math.cos(w * t)]]
)
assert np.abs(expm(A * t) - closed).max() < 1e-13

term, series, k = np.eye(2), np.eye(2), 0
while np.abs(series - closed).max() > 1e-12:
    k += 1
    term = term @ (A * t) / k
    series = series + term
# the tail after k terms is about (wt)^(k+1) / (k+1)!
print(
    f"series converged after {k} terms; (wt)^(k+1)/(k+1)! = "
    f"{(w * t) ** (k + 1) / math.factorial(k + 1):.1e}"
)
assert (w * t) ** (k + 1) / math.factorial(k + 1) < 1e-11  # first omitted term
