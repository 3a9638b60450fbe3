r"""UniPC: a unified predictor–corrector framework (Zhao et al., 2023).

UniPC is a multistep exponential integrator like DPM-Solver. Its predictor UniP-p uses
the last $p$ model outputs $m_{i-1}, \dots, m_{i-p}$; with data prediction
($m = \hat x_0$, $h = \lambda_t - \lambda_s$, Zhao et al., 2023, Algorithm 2 / eq. 8)

$$\tilde x_t = \frac{\sigma_t}{\sigma_s} x_s - \alpha_t\,(e^{-h} - 1)\, m_{i-1}
 - \alpha_t B(h) \sum_{k=1}^{p-1} a_k\, D_k, \qquad
D_k = \frac{m_{i-k-1} - m_{i-1}}{r_k},$$

with $r_k = (\lambda_{s_k} - \lambda_s)/h$ and the weights $a$ solving the order
conditions $R_p(h)\, a = \phi_p(h)/B(h)$ (eq. 10), $B(h) = h$ ("bh1") or $e^h - 1$
("bh2", with the sign of $h$ flipped for data prediction). The corrector UniC evaluates
the model at $\tilde x_t$ once — the evaluation the next step needs anyway — and redoes
the step with that output included ($r_p = 1$), raising the order by one at no extra
cost. Noise prediction ($m = \hat\varepsilon$) replaces $\sigma_t/\sigma_s$ by
$\alpha_t/\alpha_s$ and $\alpha_t(e^{-h}-1)$ by $\sigma_t(e^{h}-1)$.
"""

from __future__ import annotations

import math

import numpy as np

from ..validate import check_int
from .core import (
    Runner,
    check_choice,
    grad_option,
    make_grid,
    step_orders,
    with_bar,
    x0_from_eps,
)

VARIANTS = ("bh1", "bh2")


# --8<-- [start:unipc_weights]
def unipc_weights(
    h: float, rks: list[float], variant: str, predict_x0: bool, corrector: bool
):
    r"""Solve the UniPC order conditions for one step.

    Returns `(h_phi_1, B_h, rhos)` where `rhos` weigh the differences $D_k$ ($r_k$ in
    `rks`; the corrector's last $r = 1$ is appended here). Like the official code and
    diffusers, the second-order predictor and first-order corrector use the weight 1/2.
    """
    hh = -h if predict_x0 else h
    h_phi_1 = math.expm1(hh)  # h phi_1(hh)
    B_h = hh if variant == "bh1" else math.expm1(hh)
    r = np.array(list(rks) + [1.0])
    p = len(r)
    R = np.stack([r**k for k in range(p)])  # (p, p) Vandermonde rows r^0 .. r^(p-1)
    b, h_phi_k, fact = [], h_phi_1 / hh - 1.0, 1
    for k in range(1, p + 1):  # b_k = phi_{k+1}(hh) k! / B(h)
        b.append(h_phi_k * fact / B_h)
        fact *= k + 1
        h_phi_k = h_phi_k / hh - 1.0 / fact
    b = np.array(b)
    if corrector:
        rhos = np.array([0.5]) if p == 1 else np.linalg.solve(R, b)
    elif p == 1:  # first-order predictor: no differences
        rhos = np.zeros(0)
    else:  # the predictor uses the differences D_1 .. D_{p-1} only
        rhos = np.array([0.5]) if p == 2 else np.linalg.solve(R[:-1, :-1], b[:-1])
    return h_phi_1, B_h, rhos


# --8<-- [end:unipc_weights]


# --8<-- [start:unipc_coefficients]
def unipc_coefficients(grid, orders, variant, predict_x0, progress=False):
    """Per step k, the weights of x_{k-1}, of the stored outputs m_{k-1}, m_{k-2}, ...
    and of m_k.

    Step k = x_k = c_x x_{k-1} + sum_j c_m[j] m_{k-1-j} (predictor), and the corrector
    recomputes it as c_x x_{k-1} + sum_j c_mc[j] m_{k-1-j} + c_new m_k. With
    `progress`, a bar shows the precomputation (about 60 µs a step).
    """
    a, s, lam = grid.alpha, grid.sigma, grid.lam
    steps = []
    numbered = enumerate(orders, start=1)
    for k, p in with_bar(numbered, progress, len(orders), "UniPC coefficients"):
        h = lam[k] - lam[k - 1]
        rks = [(lam[k - 1 - j] - lam[k - 1]) / h for j in range(1, p)]
        scale = a[k] if predict_x0 else s[k]  # alpha_t (data) or sigma_t (noise)
        c_x = s[k] / s[k - 1] if predict_x0 else a[k] / a[k - 1]
        out = {"c_x": c_x}
        for name, corr in (("pred", False), ("corr", True)):
            h_phi_1, B_h, rhos = unipc_weights(h, rks, variant, predict_x0, corr)
            c_m = np.zeros(p)
            c_m[0] = -scale * h_phi_1
            for j, rk in enumerate(rks, start=1):  # D_j = (m_{k-1-j} - m_{k-1}) / r_j
                w = -scale * B_h * rhos[j - 1] / rk
                c_m[j] += w
                c_m[0] -= w
            c_new = 0.0
            if corr:  # D_p = m_k - m_{k-1}
                c_new = -scale * B_h * rhos[-1]
                c_m[0] += scale * B_h * rhos[-1]
            out[name] = (c_m.tolist(), c_new)
        steps.append(out)
    return steps


# --8<-- [end:unipc_coefficients]


@grad_option
def unipc(
    model_fn,
    x,
    noise_schedule,
    timesteps,
    order: int = 2,
    variant: str = "bh2",
    predict_x0: bool = True,
    lower_order_final: bool = True,
    use_corrector: bool = True,
    denoise_to_zero: bool = False,
    callback=None,
    progress: bool = False,
):
    r"""UniPC-p multistep sampling (UniP predictor + UniC corrector): N steps, N model
    calls.

    - `order`: 1, 2 or 3 (the predictor's order; the corrector adds one).
    - `variant`: `'bh1'` ($B(h) = h$) or `'bh2'` ($B(h) = e^h - 1$).
    - `predict_x0`: work with data predictions (UniPC's default, like DPM-Solver++) or
      noise.
    - `lower_order_final`: never use more past outputs than steps remain (the final
      denoising step counts), which stabilises few-step sampling.
    - `use_corrector`: apply UniC after every step but the last.
    - `denoise_to_zero`: return $\hat x_0$ from one more model call at the last time.

    Other arguments as in `ddim`.
    """
    order = check_int("order", order, 1, 3)
    check_choice("variant", variant, VARIANTS)
    grid = make_grid(noise_schedule, timesteps, x)
    N = grid.steps
    coef = unipc_coefficients(
        grid,
        step_orders(order, N, lower_order_final, denoise_to_zero),
        variant,
        predict_x0,
        progress,
    )
    run = Runner(model_fn, x, grid, callback, progress, "UniPC")

    def model_out(x, k):  # (m, eps) with m = x0_pred or eps
        eps = run.eps(x, k)
        run.callback(k, x, eps)
        return (x0_from_eps(x, eps, grid, k) if predict_x0 else eps), eps

    ms = [model_out(x, 0)[0]]  # m_0, most recent last
    for k in run.range(N):
        k += 1
        c = coef[k - 1]
        # --8<-- [start:unipc_step]
        c_m, _ = c["pred"]
        x_new = c["c_x"] * x + sum(cj * ms[-1 - j] for j, cj in enumerate(c_m))  # UniP
        if k < N or denoise_to_zero:
            m_new, eps = model_out(x_new, k)
            if k < N and use_corrector:  # UniC
                c_m, c_new = c["corr"]
                x_new = (
                    c["c_x"] * x
                    + sum(cj * ms[-1 - j] for j, cj in enumerate(c_m))
                    + c_new * m_new
                )
            ms = ms[-2:] + [m_new]  # the model output is reused, not recomputed
        x = x_new
        # --8<-- [end:unipc_step]
    if denoise_to_zero:
        x = x0_from_eps(x, eps, grid, N)
    return run.done(x)
