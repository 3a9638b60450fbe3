# Every DPM-Solver update of the page, written from its formula (phi functions by
# quadrature of their integral), checked three ways on the exact mixture:
# formula step = library step; local error ~ h^(k+1); the library's global error ~ N^-k.
import math

import torch
from difflearn import DPM_Solver, GaussianMixture, NoiseScheduleVP, model_wrapper
from difflearn.samplers.dpm_solver.plans import stage_coefficients
from difflearn.samplers.dpm_solver.updates import (
    dpm_solver_first_update,
    dpm_solver_second_update,
    dpm_solver_third_update,
    second_order_coefficients,
    third_order_coefficients,
)
from scipy.integrate import quad

gm = GaussianMixture(
    [[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.8, 0.9, 0.7], [0.5, 0.3, 0.2]
)
ns = NoiseScheduleVP("linear", dtype=torch.float64)


def phi(k, z):  # phi_k(z) = int_0^1 e^{(1 - u) z} u^{k-1} / (k-1)! du
    def f(u):
        return math.exp((1 - u) * z) * u ** (k - 1) / math.factorial(k - 1)

    return quad(f, 0.0, 1.0, epsabs=0, epsrel=1e-13)[0]


# the recurrence derived on the page: phi_{k+1}(z) = (phi_k(z) - 1/k!) / z
for z in (-2.0, -0.3, 0.5, 3.0):
    for k in (1, 2):
        assert abs(phi(k + 1, z) - (phi(k, z) - 1 / math.factorial(k)) / z) < 1e-12


def time_of(lam):
    return ns.inverse_lambda(torch.tensor([lam], dtype=torch.float64))


def model(x, lam, data):  # eps-hat or x0-hat of the exact mixture at lambda
    return (gm.x0 if data else gm.eps)(x, time_of(lam), ns)


def alpha_sigma(lam):  # VP: alpha^2 + sigma^2 = 1, lambda = log(alpha / sigma)
    return 1 / math.sqrt(1 + math.exp(-2 * lam)), 1 / math.sqrt(1 + math.exp(2 * lam))


def exp_step(x, ls, lt, derivs, data):
    """x_t = A x_s + B sum_n h^{n+1} phi_{n+1}(+-h) m^(n): the exponential integrator
    with the Taylor terms `derivs` = [m_s, h m', h^2 m'', ...]."""
    (a_s, s_s), (a_t, s_t), h = alpha_sigma(ls), alpha_sigma(lt), lt - ls
    if data:  # x_t = (sigma_t/sigma_s) x_s + alpha_t sum h phi_{n+1}(-h) (h^n m^(n))
        A, B, z = s_t / s_s, a_t, -h
    else:  # x_t = (alpha_t/alpha_s) x_s - sigma_t sum h phi_{n+1}(h) (h^n m^(n))
        A, B, z = a_t / a_s, -s_t, h
    return A * x + B * sum(h * phi(n + 1, z) * d for n, d in enumerate(derivs))


def formula_step(variant, x, ls, lt, past, data, r=(0.5,)):
    """One step of `variant` from its formula; `past` = outputs at ls - h, ls - 2h."""
    m_s = model(x, ls, data)
    if variant == "1":
        return exp_step(x, ls, lt, [m_s], data)
    if variant == "2S":  # DPM-Solver-2: D = (m_u - m_s) / r, weighted phi_1 / 2
        (r1,) = r
        u = exp_step(x, ls, ls + r1 * (lt - ls), [m_s], data)
        d = (model(u, ls + r1 * (lt - ls), data) - m_s) / r1
        h = lt - ls
        k = phi(1, h if not data else -h) / (2 * phi(2, h if not data else -h))
        return exp_step(x, ls, lt, [m_s, k * d], data)
    if variant == "3S":  # DPM-Solver-3: u1 (order 1), u2 (order 2), x_t from m_u2
        r1, r2 = r
        h = lt - ls
        u1 = exp_step(x, ls, ls + r1 * h, [m_s], data)
        d1 = (model(u1, ls + r1 * h, data) - m_s) / r1  # ~ h m'
        u2 = exp_step(x, ls, ls + r2 * h, [m_s, r2 * d1], data)  # (r2 h) m' ~ r2 d1
        d2 = (model(u2, ls + r2 * h, data) - m_s) / r2
        return exp_step(x, ls, lt, [m_s, d2], data)
    m1, m2 = past  # outputs at ls - h, ls - 2h (equal steps: r = 1)
    if variant == "2M":  # D1 = m_s - m_1; DPM-Solver's weight phi_1 / 2 on it
        h = lt - ls
        k = phi(1, h if not data else -h) / (2 * phi(2, h if not data else -h))
        return exp_step(x, ls, lt, [m_s, k * (m_s - m1)], data)
    # 3M: D1 = (3 m_s - 4 m_1 + m_2) / 2 ~ h m',  D2 = m_s - 2 m_1 + m_2 ~ h^2 m''
    w = 0.5 if variant == "3M official" else 1.0
    d1, d2 = (3 * m_s - 4 * m1 + m2) / 2, m_s - 2 * m1 + m2
    return exp_step(x, ls, lt, [m_s, d1, w * d2], data)


# ---- 1. formula step = library step (one step from random states) -------------------
x = torch.randn(8, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
ls, lt = 0.3, 0.9
s, t = ns.marginals(torch.cat([time_of(ls), time_of(lt)]), lambdas=[ls, lt]).points()
for data in (False, True):
    alg = "dpmsolver++" if data else "dpmsolver"
    m_s = model(x, ls, data)
    m1, m2 = model(x + 0.1, 2 * ls - lt, data), model(x - 0.2, 3 * ls - 2 * lt, data)
    lib = {}
    for variant, r in (("2S", (0.5,)), ("3S", (1 / 3, 2 / 3))):  # singlestep stages
        pts, c = stage_coefficients(ns, alg, "dpmsolver", s, t, *r)
        u1 = dpm_solver_first_update(x, m_s, c[0])
        mu1 = model(u1, pts[1].lambda_, data)
        if variant == "2S":
            lib[variant] = dpm_solver_second_update(x, m_s, mu1, c[1])
        else:
            u2 = dpm_solver_second_update(x, m_s, mu1, c[1])
            mu2 = model(u2, pts[2].lambda_, data)
            lib[variant] = dpm_solver_second_update(x, m_s, mu2, c[2])
    lib["2M"] = dpm_solver_second_update(
        x, m_s, m1, second_order_coefficients(alg, "dpmsolver", s, t, -1.0)
    )
    for variant, w in (("3M official", 0.5), ("3M Taylor", 1.0)):
        c = third_order_coefficients(alg, s, t, -1.0, -2.0, d2_weight=w)
        lib[variant] = dpm_solver_third_update(x, m_s, m1, m2, c)
    for variant, out in lib.items():
        r = (0.5,) if variant == "2S" else (1 / 3, 2 / 3)
        ref = formula_step(variant, x, ls, lt, (m1, m2), data, r)
        assert torch.allclose(out, ref, rtol=1e-10, atol=1e-12), (alg, variant)
print("formula = library step for 1, 2S, 3S, 2M, 3M (official and Taylor), both models")

# ---- 2. local error of the formulas on the exact trajectory: ~ h^(k+1) --------------
x_T = torch.randn(
    16, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
exact = {}  # lambda -> the exact state x(lambda) of the probability-flow ODE


def x_at(lam):
    if lam not in exact:
        exact[lam] = gm.pf_ode_solve(x_T, 1.0, float(time_of(lam)), ns, 1e-13, 1e-13)
    return exact[lam]


def local_order(variant, data, r=(1 / 3, 2 / 3), l0=0.5, hs=(0.1, 0.05)):
    errs = []
    for h in hs:
        past = (
            model(x_at(l0 - h), l0 - h, data),
            model(x_at(l0 - 2 * h), l0 - 2 * h, data),
        )
        out = formula_step(variant, x_at(l0), l0, l0 + h, past, data, r)
        errs.append(float((out - x_at(l0 + h)).norm(dim=1).max()))
    return math.log2(errs[0] / errs[1])


# ---- 3. global error of the library's sample(): ~ N^-k ------------------------------
ref = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns, rtol=1e-12, atol=1e-12)
fn = model_wrapper(gm.noise_fn(ns), ns)


def global_order(variant, data, n):
    solver = DPM_Solver(fn, ns, algorithm_type="dpmsolver++" if data else "dpmsolver")
    solver.multistep_d2_weight = 1.0 if variant == "3M Taylor" else 0.5
    order = int(variant[0]) if variant[0].isdigit() else 1
    method = (
        "singlestep_fixed" if variant.endswith("S") or variant == "1" else "multistep"
    )
    errs = []
    for steps in (n * order, 2 * n * order) if method != "multistep" else (n, 2 * n):
        out = solver.sample(
            x_T,
            steps=steps,
            t_end=1e-3,
            order=order,
            method=method,
            skip_type="logSNR",
            lower_order_final=False,
        )
        errs.append(float((out - ref).norm(dim=1).max()))
    return math.log2(errs[0] / errs[1])


print(f"{'variant':28s} order  local (formula)  global (library)")
for data in (False, True):
    for variant, k, n in (
        ("1", 1, 40),
        ("2S", 2, 40),
        ("3S", 3, 40),
        ("2M", 2, 40),
        ("3M official", 2, 80),
        ("3M Taylor", 3, 80),
    ):
        name = ("DPM-Solver++ " if data else "DPM-Solver ") + variant
        r = (0.5,) if variant == "2S" else (1 / 3, 2 / 3)
        loc, glob = local_order(variant, data, r), global_order(variant, data, n)
        print(f"{name:28s} {k}      {loc:5.2f}            {glob:5.2f}")
        assert abs(loc - (k + 1)) < 0.35 and abs(glob - k) < 0.35, (name, loc, glob)
