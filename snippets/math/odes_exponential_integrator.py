"""Why diffusion samplers integrate the linear part exactly.

The probability-flow ODE of a VP diffusion in noise-prediction form is
    dx/dt = f(t) x + g(t)^2 / (2 sigma_t) * eps(x, t)
with f = -beta/2 and g^2 = beta for the linear schedule. For Gaussian data
N(c, s^2) the exact noise predictor is eps(x, t) = sigma_t (x - alpha_t c) / v_t,
v_t = alpha_t^2 s^2 + sigma_t^2, and the exact solution keeps the standardised
value fixed: (x_t - alpha_t c) / sqrt(v_t) = const.

We compare plain Euler in t against the exponential step (first-order
DPM-Solver, which is DDIM)
    x_t = (alpha_t / alpha_s) x_s - sigma_t (e^h - 1) eps(x_s, s),
    h = lambda_t - lambda_s,
on the same grid (uniform in lambda), and check by quadrature the
variation-of-constants formula it comes from.
"""

import numpy as np
import torch
from difflearn.schedules import NoiseScheduleVP
from scipy.integrate import quad

ns = NoiseScheduleVP("linear")  # beta(t) = 0.1 + 19.9 t
as_t = lambda t: torch.as_tensor(t, dtype=torch.float64)
alpha = lambda t: float(ns.marginal_alpha(as_t(t)))
sigma = lambda t: float(ns.marginal_std(as_t(t)))
lam = lambda t: float(ns.marginal_lambda(as_t(t)))
t_of = lambda l: float(ns.inverse_lambda(as_t([l]))[0])
beta = lambda t: ns.beta_0 + t * (ns.beta_1 - ns.beta_0)
t_T, t_0, x_T, c = 1.0, 1e-3, 1.0, 0.7


def problem(s):
    v = lambda t: alpha(t) ** 2 * s**2 + sigma(t) ** 2
    eps = lambda x, t: sigma(t) * (x - alpha(t) * c) / v(t)
    exact = lambda t: alpha(t) * c + (x_T - alpha(t_T) * c) * np.sqrt(v(t) / v(t_T))
    return eps, exact


def grid(n):  # uniform in lambda, the natural variable of the exponential step
    return [t_of(l) for l in np.linspace(lam(t_T), lam(t_0), n + 1)]


def euler(eps, n):
    ts, x = grid(n), x_T
    for s, t in zip(ts[:-1], ts[1:]):
        x = x + (t - s) * (-0.5 * beta(s) * x + beta(s) / (2 * sigma(s)) * eps(x, s))
    return x


def exponential(eps, n):
    ts, x = grid(n), x_T
    for s, t in zip(ts[:-1], ts[1:]):
        x = alpha(t) / alpha(s) * x - sigma(t) * np.expm1(lam(t) - lam(s)) * eps(x, s)
    return x


# 1. a point mass (s = 0): eps is constant along the exact path, so the exponential
#    step is exact
eps, exact = problem(0.0)
for n in (1, 3, 10):
    assert abs(exponential(eps, n) - exact(t_0)) < 1e-12
print(
    f"point mass, 10 steps: Euler error {abs(euler(eps, 10) - exact(t_0)):.2e}, "
    "exponential error 0"
)

# 2. a narrow Gaussian (s = 0.02): both are first order, the exponential step has the
#    smaller constant
eps, exact = problem(0.02)
print(" steps   Euler error   exponential error")
for n in (5, 10, 20, 40):
    e_euler, e_exp = (
        abs(euler(eps, n) - exact(t_0)),
        abs(exponential(eps, n) - exact(t_0)),
    )
    print(f"{n:6d}   {e_euler:11.2e}   {e_exp:17.2e}")
    assert e_exp < e_euler / 1.5, (n, e_euler, e_exp)
assert abs(exponential(eps, 80) - exact(t_0)) < 0.6 * abs(
    exponential(eps, 40) - exact(t_0)
)  # first order

# 3. variation of constants in lambda, along the exact path:
#    x_t = (alpha_t / alpha_s) x_s
#          - alpha_t * int_{lambda_s}^{lambda_t} e^{-lambda} eps(x_lambda) d lambda
integrand = lambda l: np.exp(-l) * eps(exact(t_of(l)), t_of(l))
integral, _ = quad(integrand, lam(t_T), lam(t_0), epsabs=1e-12, epsrel=1e-12, limit=200)
voc = alpha(t_0) / alpha(t_T) * x_T - alpha(t_0) * integral
print(f"variation of constants {voc:.10f}  exact {exact(t_0):.10f}")
assert abs(voc - exact(t_0)) < 1e-8
