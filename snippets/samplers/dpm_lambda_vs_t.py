# Why lambda? The same exponential integrator, with the model output extrapolated by a
# polynomial in lambda (DPM-Solver) or in t (DEIS's tAB), on the exact mixture.
import numpy as np
import torch
from difflearn import (
    DPM_Solver,
    GaussianMixture,
    NoiseScheduleVP,
    model_wrapper,
    time_steps,
)

gm = GaussianMixture(
    [[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.8, 0.9, 0.7], [0.5, 0.3, 0.2]
)
ns = NoiseScheduleVP("linear", dtype=torch.float64)
x_T = torch.randn(
    32, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
reference = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns, rtol=1e-12, atol=1e-12)
nodes, weights = np.polynomial.legendre.leggauss(20)


def lagrange(points, j, x):  # the j-th Lagrange basis polynomial through `points`
    out = np.ones_like(x)
    for k, p in enumerate(points):
        if k != j:
            out = out * (x - p) / (points[j] - p)
    return out


def exponential_ab(steps, order, variable, skip_type):
    """x_t = (alpha_t/alpha_s) x_s - alpha_t int e^{-lambda} P(lambda) d lambda, with P
    the polynomial through the last `order` outputs, in `variable` ("lambda" or "t")."""
    ts = time_steps(ns, skip_type, 1.0, 1e-3, steps, dtype=torch.float64).numpy()
    m = ns.marginals(ts)
    x, outputs = x_T.clone(), []
    for i in range(steps):
        outputs.append(gm.eps(x, torch.tensor([ts[i]]), ns))
        k = min(order, i + 1)  # warm up with lower orders
        lo, hi = m.lam[i], m.lam[i + 1]
        lam = 0.5 * (hi - lo) * nodes + 0.5 * (hi + lo)  # Gauss-Legendre in lambda
        w = 0.5 * (hi - lo) * weights * np.exp(-lam)
        if variable == "t":  # the polynomial lives in t: evaluate it at t(lambda)
            at, points = (
                ns.inverse_lambda(torch.as_tensor(lam)).numpy(),
                ts[i - k + 1 : i + 1],
            )
        else:
            at, points = lam, m.lam[i - k + 1 : i + 1]
        x = m.alpha[i + 1] / m.alpha[i] * x
        for j in range(k):
            x = (
                x
                - m.alpha[i + 1]
                * np.sum(w * lagrange(points, j, at))
                * outputs[i - k + 1 + j]
            )
    return x


def error(x):
    return float((x - reference).norm(dim=1).mean())


# the lambda version is DPM-Solver's multistep update ("taylor" form at order 2;
# the Taylor-consistent weight 1 at order 3): the same numbers
fn = model_wrapper(gm.noise_fn(ns), ns)
solver = DPM_Solver(fn, ns, algorithm_type="dpmsolver")
solver.multistep_d2_weight = 1.0
for order in (2, 3):
    ours = exponential_ab(12, order, "lambda", "logSNR")
    lib = solver.sample(
        x_T,
        steps=12,
        t_end=1e-3,
        order=order,
        skip_type="logSNR",
        solver_type="taylor",
        lower_order_final=False,
    )
    assert torch.allclose(ours, lib, rtol=1e-9, atol=1e-11)

table = {}
for skip_type in ("logSNR", "time_uniform"):
    for order in (2, 3):
        for variable in ("lambda", "t"):
            errs = [
                error(exponential_ab(n, order, variable, skip_type))
                for n in (10, 20, 40)
            ]
            table[skip_type, order, variable] = errs
            print(
                f"{skip_type:12s} order {order}, polynomial in {variable:6s}: "
                + "  ".join(f"{e:.2e}" for e in errs)
            )

# on a grid uniform in lambda, the polynomial in lambda wins, most at order 3 ...
lam3, t3 = table["logSNR", 3, "lambda"], table["logSNR", 3, "t"]
assert all(a < b for a, b in zip(lam3, t3)) and t3[-1] > 3 * lam3[-1]
# ... but on a grid uniform in t, the polynomial in t is the better one
assert all(
    b < a
    for a, b in zip(table["time_uniform", 3, "lambda"], table["time_uniform", 3, "t"])
)
