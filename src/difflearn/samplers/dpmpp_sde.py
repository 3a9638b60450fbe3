r"""SDE-DPM-Solver++(2M): the multistep DPM-Solver++ for the reverse SDE (Lu et al., 2022b).

Solving the reverse VP SDE with the variation-of-constants formula in $\lambda$ and a data
prediction $\hat x_0$ that is held constant (first order) or linear in $\lambda$ (second
order) gives, with $h = \lambda_t - \lambda_s$ (Lu et al., 2022b, Appendix; the
"sde-dpmsolver++" of diffusers, `sample_dpmpp_2m_sde` of k-diffusion):

$$x_t = \frac{\sigma_t}{\sigma_s} e^{-h} x_s + \alpha_t\,(1 - e^{-2h})\, D_0 + c(h)\, D_1
+ \sigma_t \sqrt{1 - e^{-2h}}\; z ,$$

with $D_0 = \hat x_0(x_s)$, $D_1 = (D_0 - \hat x_0^{\text{prev}})/r$, $r = h_{\text{prev}}/h$, and
$c(h) = \tfrac12\alpha_t(1 - e^{-2h})$ ("midpoint") or
$c(h) = \alpha_t\big(\frac{1 - e^{-2h}}{-2h} + 1\big)$ ("heun"). First order drops $D_1$.
"""

from __future__ import annotations

import numpy as np

from ._common import Runner, check_choice, make_grid, noise_source, step_orders

SOLVER_TYPES = ("midpoint", "heun")


# --8<-- [start:sde_dpmpp_coefficients]
def sde_dpmpp_coefficients(grid, orders, solver_type: str):
    """Per step: weights of x, of x0_pred now (D0), of the previous x0_pred, and the noise std."""
    a, s, lam = grid.alpha, grid.sigma, grid.lam
    c_x, c_0, c_1, std = [], [], [], []
    for k, p in enumerate(orders, start=1):
        h = lam[k] - lam[k - 1]
        e = -np.expm1(-2.0 * h)                         # 1 - e^{-2h}
        c_x.append(s[k] / s[k - 1] * np.exp(-h))
        std.append(s[k] * np.sqrt(e))
        w0, w1 = a[k] * e, 0.0
        if p == 2:                                      # D1 = (m0 - m1) / r,  r = h_prev / h
            r = (lam[k - 1] - lam[k - 2]) / h
            d1 = 0.5 * a[k] * e if solver_type == "midpoint" else a[k] * (e / (-2.0 * h) + 1.0)
            w0, w1 = w0 + d1 / r, -d1 / r
        c_0.append(w0)
        c_1.append(w1)
    return c_x, c_0, c_1, std
# --8<-- [end:sde_dpmpp_coefficients]


def sde_dpmpp_2m(model_fn, x, noise_schedule, timesteps, order: int = 2, solver_type: str = "midpoint",
                 lower_order_final: bool = True, denoise_to_zero: bool = False, generator=None,
                 noise_sampler=None, callback=None, progress: bool = False):
    """SDE-DPM-Solver++ of order 1 or 2 (multistep): N steps, N model calls.

    `lower_order_final` uses first order on the last step (with `denoise_to_zero`,
    the final step to $\\sigma = 0$ is first order and returns $\\hat x_0$). Other arguments
    as in `ddim`.
    """
    if order not in (1, 2):
        raise ValueError(f"order must be one of (1, 2), got {order!r}")
    check_choice("solver_type", solver_type, SOLVER_TYPES)
    grid = make_grid(noise_schedule, timesteps, x)
    orders = step_orders(order, grid.steps, lower_order_final, denoise_to_zero)
    c_x, c_0, c_1, std = sde_dpmpp_coefficients(grid, orders, solver_type)
    a, s = grid.alpha.tolist(), grid.sigma.tolist()
    noise = noise_source(x, generator, noise_sampler)
    run = Runner(model_fn, x, grid, callback, progress, "SDE-DPM-Solver++")
    m_prev = None
    for i in run.range(grid.steps):
        eps = run.eps(x, i)
        run.callback(i, x, eps)
        m = (x - s[i] * eps) / a[i]                     # x0_pred
        # --8<-- [start:sde_dpmpp_step]
        x = c_x[i] * x + c_0[i] * m + std[i] * noise()
        if c_1[i] != 0.0:
            x = x + c_1[i] * m_prev
        # --8<-- [end:sde_dpmpp_step]
        m_prev = m
    if denoise_to_zero:
        eps = run.eps(x, grid.steps)
        x = (x - s[-1] * eps) / a[-1]
    return run.done(x)
