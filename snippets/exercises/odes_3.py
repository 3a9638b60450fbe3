"""Exercise: one more Taylor term in the exponential integrator (DPM-Solver-2's weight).

If the network output is linear in lambda over the step, eps(lambda) = e0 + e1 (lambda -
lambda_s), the variation-of-constants formula integrates it exactly:
    x_t = (alpha_t/alpha_s) x_s - sigma_t (e^h - 1) e0 - sigma_t (e^h - 1 - h) e1,
using alpha_t e^{-lambda_t} = sigma_t. The first-order step (DDIM) drops the last term,
an error of sigma_t (e^h - 1 - h) e1 ~ sigma_t h^2 e1 / 2. Reference: 30-point
Gauss-Legendre quadrature of the integral (exact to rounding for this smooth integrand).
"""

import math

import numpy as np
import torch
from difflearn import NoiseScheduleVP

ns = NoiseScheduleVP("linear", dtype=torch.float64)
s, t = 0.6, 0.3
lam_s, lam_t = ns.marginal_lambda(torch.tensor([s, t], dtype=torch.float64)).tolist()
a_s, a_t = ns.marginal_alpha(torch.tensor([s, t], dtype=torch.float64)).tolist()
sg_t = ns.marginal_std(torch.tensor([t], dtype=torch.float64)).item()
h = lam_t - lam_s
x_s, e0, e1 = 0.8, -0.4, 0.9

nodes, weights = np.polynomial.legendre.leggauss(30)
lam = lam_s + (nodes + 1) / 2 * h  # nodes mapped to [lam_s, lam_t]
integral = h / 2 * np.sum(weights * np.exp(-lam) * (e0 + e1 * (lam - lam_s)))
exact = a_t / a_s * x_s - a_t * integral
second = a_t / a_s * x_s - sg_t * math.expm1(h) * e0 - sg_t * (math.expm1(h) - h) * e1
first = a_t / a_s * x_s - sg_t * math.expm1(h) * e0
print(
    f"h = {h:.3f}: exact {exact:.10f}, 2nd-order {second:.10f}, 1st-order {first:.6f}"
)
assert abs(second - exact) < 1e-12
assert abs((first - exact) - sg_t * (math.expm1(h) - h) * e1) < 1e-12
