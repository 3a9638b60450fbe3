"""Exercise: computing phi functions. Where does the recursion lose its digits?

phi_1(h) = (e^h - 1)/h and phi_{k+1}(h) = (phi_k(h) - 1/k!)/h. Each step subtracts two
nearly equal numbers when h is small: phi_k(h) - 1/k! ~ h/(k+1)!, so the rounding error
of phi_k (about 1e-16) is divided by h at every level. Prediction: phi_3 by the
recursion has a relative error of order 1e-16 / h^2 (1e-8 at h = 1e-4), while the series
phi_k(h) = sum_j h^j / (j + k)! is accurate. Reference: mpmath at 50 digits.
"""

import math

import mpmath

mpmath.mp.dps = 50


def phi_recursive(k, h):
    p = math.expm1(h) / h  # phi_1 with expm1: accurate
    for j in range(1, k):
        p = (p - 1 / math.factorial(j)) / h
    return p


def phi_series(k, h, terms=20):
    return sum(h**j / math.factorial(j + k) for j in range(terms))


def phi_exact(k, h):
    h = mpmath.mpf(h)
    p = mpmath.expm1(h) / h
    for j in range(1, k):
        p = (p - mpmath.mpf(1) / mpmath.factorial(j)) / h
    return p


for h in (1e-1, 1e-2, 1e-3, 1e-4):
    ref = phi_exact(3, h)
    rec = abs(float((phi_recursive(3, h) - ref) / ref))
    ser = abs(float((phi_series(3, h) - ref) / ref))
    print(f"h = {h:.0e}: recursion {rec:.1e}, series {ser:.1e}")
    assert ser < 1e-15
    assert rec < 20 * 2.2e-16 / h**2  # the predicted loss
    if h <= 1e-3:
        assert rec > 1e-12  # and it really happens
