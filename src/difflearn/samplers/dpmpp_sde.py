r"""SDE-DPM-Solver++: the multistep DPM-Solver++ for the reverse SDE (Lu et al., 2022b).

Solving the reverse VP SDE with the variation-of-constants formula in $\lambda$ and a
data prediction $\hat x_0$ that is held constant (first order) or linear in $\lambda$
(second order) gives, with $h = \lambda_t - \lambda_s$ (Lu et al., 2022b, Appendix; the
"sde-dpmsolver++" of diffusers, `sample_dpmpp_2m_sde` of k-diffusion):

$$x_t = \frac{\sigma_t}{\sigma_s} e^{-h} x_s + \alpha_t\,(1 - e^{-2h})\, D_0
+ c(h)\, D_1 + \sigma_t \sqrt{1 - e^{-2h}}\; z ,$$

with $D_0 = \hat x_0(x_s)$, $D_1 = (D_0 - \hat x_0^{\text{prev}})/r$,
$r = h_{\text{prev}}/h$, and $c(h) = \tfrac12\alpha_t(1 - e^{-2h})$ ("midpoint") or
$c(h) = \alpha_t\big(\frac{1 - e^{-2h}}{-2h} + 1\big)$ ("heun"). First order drops
$D_1$.

k-diffusion adds a knob $\eta \in [0, 1]$ that interpolates between the ODE ($\eta = 0$,
DPM-Solver++(2M)) and the SDE above ($\eta = 1$): every $2h$ becomes $(1 + \eta)h$, the
factor of $x_s$ becomes $\frac{\sigma_t}{\sigma_s}e^{-\eta h}$, and the noise standard
deviation $\sigma_t\sqrt{1 - e^{-2\eta h}}$. Its third-order version ("DPM++ 3M SDE")
adds the second divided difference with the weights of the official third-order
multistep update, $\alpha_t(\varphi_2 D_1 - \varphi_3 D_2)$ with
$\varphi_2 = \frac{e^{-\hat h} - 1}{\hat h} + 1$,
$\varphi_3 = \frac{\varphi_2}{\hat h} - \frac12$, $\hat h = (1 + \eta)h$.
"""

from __future__ import annotations

import numpy as np

from ..validate import check_int, check_number
from .core import (
    Runner,
    check_choice,
    grad_option,
    make_grid,
    noise_source,
    step_orders,
    x0_from_eps,
)

SDE_SOLVER_TYPES = ("midpoint", "heun")  # the form of the second-order term


# --8<-- [start:sde_dpmpp_coefficients]
def sde_dpmpp_coefficients(grid, orders, solver_type: str, eta: float = 1.0):
    """Per step: the weight of x, the weights of the current and two previous x0_pred
    (m0, m1, m2) and the noise std."""
    a, s, lam = grid.alpha, grid.sigma, grid.lam
    c_x, c_m, std = [], [], []
    for k, p in enumerate(orders, start=1):
        h = lam[k] - lam[k - 1]
        hh = (1.0 + eta) * h  # h-hat: 2h for the full SDE
        e = -np.expm1(-hh)  # 1 - e^{-h-hat}
        phi2 = -e / hh + 1.0
        c_x.append(s[k] / s[k - 1] * np.exp(-eta * h))
        std.append(s[k] * np.sqrt(-np.expm1(-2.0 * eta * h)))
        w = [a[k] * e, 0.0, 0.0]
        if p == 2:  # D1 = (m0 - m1) / r,  r = h_prev / h
            r = (lam[k - 1] - lam[k - 2]) / h
            d1 = 0.5 * a[k] * e if solver_type == "midpoint" else a[k] * phi2
            w = [w[0] + d1 / r, -d1 / r, 0.0]
        elif p == 3:  # phi2 D1 - phi3 D2, D1 and D2 from m0, m1, m2
            r0, r1 = (lam[k - 1] - lam[k - 2]) / h, (lam[k - 2] - lam[k - 3]) / h
            A, B = phi2, (phi2 * r0 - (phi2 / hh - 0.5)) / (r0 + r1)
            w = [
                w[0] + a[k] * (A + B) / r0,
                -a[k] * (A / r0 + B / r0 + B / r1),
                a[k] * B / r1,
            ]
        c_m.append(w)
    return c_x, c_m, std


# --8<-- [end:sde_dpmpp_coefficients]


@grad_option
def sde_dpmpp_2m(
    model_fn,
    x,
    noise_schedule,
    timesteps,
    order: int = 2,
    solver_type: str | None = None,
    eta: float = 1.0,
    lower_order_final: bool = True,
    denoise_to_zero: bool = False,
    generator=None,
    noise_sampler=None,
    callback=None,
    progress: bool = False,
):
    r"""SDE-DPM-Solver++ of order 1, 2 or 3 (multistep): N steps, N model calls.

    `solver_type` is the form of the second-order term, `"midpoint"` (the default for
    order 1 and 2) or `"heun"`; order 3 uses the Taylor form (`"heun"`) for its
    second-order warm-up step, as k-diffusion does. `eta` in [0, 1] scales the injected
    noise (0: the ODE solver DPM-Solver++, 1: the SDE). `lower_order_final` uses first
    order on the last step (with `denoise_to_zero`, the final step to $\sigma = 0$ is
    first order and returns $\hat x_0$). Other arguments as in `ddim`.
    """
    order = check_int("order", order, 1, 3)
    eta = check_number("eta", eta, 0.0, 1.0)
    solver_type = solver_type or ("heun" if order == 3 else "midpoint")
    check_choice("solver_type", solver_type, SDE_SOLVER_TYPES)
    if order == 3 and solver_type != "heun":
        raise ValueError(
            "order 3 uses the 'heun' (Taylor) form for its warm-up step, "
            f"got solver_type={solver_type!r}"
        )
    grid = make_grid(noise_schedule, timesteps, x)
    orders = step_orders(order, grid.steps, lower_order_final, denoise_to_zero)
    c_x, c_m, std = sde_dpmpp_coefficients(grid, orders, solver_type, eta)
    noise = noise_source(x, generator, noise_sampler)
    run = Runner(model_fn, x, grid, callback, progress, "SDE-DPM-Solver++")
    m_hist = []  # x0_pred now, one step ago, two steps ago
    for i in run.range(grid.steps):
        eps = run.eps(x, i)
        run.callback(i, x, eps)
        m_hist = [x0_from_eps(x, eps, grid, i)] + m_hist[:2]
        # --8<-- [start:sde_dpmpp_step]
        x = c_x[i] * x + sum(w * m for w, m in zip(c_m[i], m_hist) if w != 0.0)
        if std[i] > 0:
            x = x + std[i] * noise()
        # --8<-- [end:sde_dpmpp_step]
    if denoise_to_zero:
        eps = run.eps(x, grid.steps)
        x = x0_from_eps(x, eps, grid, grid.steps)
    return run.done(x)


@grad_option
def sde_dpmpp_3m(
    model_fn,
    x,
    noise_schedule,
    timesteps,
    eta: float = 1.0,
    lower_order_final: bool = True,
    denoise_to_zero: bool = False,
    generator=None,
    noise_sampler=None,
    callback=None,
    progress: bool = False,
):
    """SDE-DPM-Solver++(3M), k-diffusion's "DPM++ 3M SDE":
    `sde_dpmpp_2m(..., order=3)`.
    """
    return sde_dpmpp_2m.__wrapped__(  # already inside grad_option
        model_fn,
        x,
        noise_schedule,
        timesteps,
        order=3,
        eta=eta,
        lower_order_final=lower_order_final,
        denoise_to_zero=denoise_to_zero,
        generator=generator,
        noise_sampler=noise_sampler,
        callback=callback,
        progress=progress,
    )
