r"""DEIS (Zhang & Chen, 2023) and iPNDM: Adams–Bashforth on the exponential integrator.

In EDM's variables $\bar x = x/\alpha_t$, $\rho = \sigma_t/\alpha_t$ the
probability-flow ODE is $d\bar x/d\rho = \hat\varepsilon(x_t, t)$: the linear part of
the VP ODE is solved exactly by the change of variables, and only the noise prediction
is left to approximate (Zhang & Chen, 2023, eq. 11). A multistep method keeps the last
$p$ noise predictions, fits the polynomial through them in some variable $v$, and
integrates it exactly over the step:

$$\bar x_{i+1} = \bar x_i + \sum_{j=0}^{p-1} C_{ij}\,\hat\varepsilon_{i-j}, \qquad
C_{ij} = \int_{\rho_i}^{\rho_{i+1}} \ell_{ij}\big(v(\rho)\big)\, d\rho ,$$

$\ell_{ij}$ being the Lagrange basis polynomial in $v$ that is 1 at $v_{i-j}$ and 0 at
the other $p - 1$ nodes. The choice of $v$ names the method:

- `basis='t'`: polynomials in time, the paper's **tAB-DEIS** (eq. 15);
- `basis='rho'`: polynomials in $\rho$, the paper's $\rho$AB-DEIS, which is the LMS
  sampler (`difflearn.samplers.lms`);
- `basis='logrho'`: polynomials in $\log\rho = -\lambda$, what diffusers'
  `DEISMultistepScheduler` implements.

**iPNDM** (the "improved PNDM" of Zhang & Chen, 2023, with their DEIS code) keeps the
fixed Adams–Bashforth weights of a uniform grid, $(3, -1)/2$,
$(23, -16, 5)/12$, $(55, -59, 37, -9)/24$, on the same ODE, whatever the grid: one
call per step, fourth order on an even grid in $\rho$, warm-started at lower order.
"""

from __future__ import annotations

import numpy as np
import torch

from .core import Runner, check_choice, grad_option, make_grid, step_orders, x0_from_eps

BASES = ("t", "rho", "logrho")
QUAD_NODES = 48  # Gauss-Legendre nodes per step for the integrals C_ij


# --8<-- [start:deis_coefficients]
def deis_coefficients(
    noise_schedule, lam: np.ndarray, orders: list[int], basis: str
) -> list[list[float]]:
    r"""The weights $C_{ij}$ of every step, for a grid with half log-SNRs `lam`.

    The integral over $\rho$ is done in $u = \log\rho = -\lambda$
    ($d\rho = e^u du$) with Gauss–Legendre quadrature; for `basis='t'` the nodes are
    mapped to time with `inverse_lambda`. Step $i$ uses `orders[i]` predictions.
    """
    g_x, g_w = np.polynomial.legendre.leggauss(QUAD_NODES)
    u = -np.asarray(lam, dtype=np.float64)  # log rho at the grid points

    def v_of_u(uu):  # the interpolation variable at log rho = uu
        if basis == "logrho":
            return uu
        if basis == "rho":
            return np.exp(uu)
        lamb = torch.as_tensor(-uu, dtype=torch.float64)
        return noise_schedule.inverse_lambda(lamb).numpy().reshape(np.shape(uu))

    v = v_of_u(u)
    coeffs = []
    for i, p in enumerate(orders):
        nodes = v[i - p + 1 : i + 1][::-1]  # v_i, v_(i-1), ..., v_(i-p+1)
        half = 0.5 * (u[i + 1] - u[i])
        uq = u[i] + half * (g_x + 1.0)  # quadrature points in [u_i, u_(i+1)]
        wq = half * g_w * np.exp(uq)  # d rho = e^u du
        vq = v_of_u(uq)
        row = []
        for j in range(p):
            others = np.delete(nodes, j)
            ell = np.prod([(vq - o) / (nodes[j] - o) for o in others], axis=0)
            row.append(float(np.sum(wq * ell)))
        coeffs.append(row)
    return coeffs


# --8<-- [end:deis_coefficients]

# --8<-- [start:ipndm_weights]
IPNDM_WEIGHTS = (
    (1.0,),
    (3 / 2, -1 / 2),
    (23 / 12, -16 / 12, 5 / 12),
    (55 / 24, -59 / 24, 37 / 24, -9 / 24),
)


def ipndm_coefficients(rho: np.ndarray, orders: list[int]) -> list[list[float]]:
    r"""$C_{ij} = (\rho_{i+1} - \rho_i)\, b^{(p)}_j$: the fixed Adams–Bashforth weights
    $b^{(p)}$ of order $p$, exact for an even grid in $\rho$, used on any grid.
    """
    return [
        [(rho[i + 1] - rho[i]) * b for b in IPNDM_WEIGHTS[p - 1]]
        for i, p in enumerate(orders)
    ]


# --8<-- [end:ipndm_weights]


def _multistep(model_fn, x, grid, coeffs, denoise_to_zero, callback, progress, desc):
    r"""$\bar x_{i+1} = \bar x_i + \sum_j C_{ij}\hat\varepsilon_{i-j}$ along `grid`,
    with $\bar x = x/\alpha$.
    """
    alpha = grid.alpha.tolist()
    run = Runner(model_fn, x, grid, callback, progress, desc)
    xbar = x / alpha[0]
    history = []  # eps_i, eps_(i-1), ...
    for i in run.range(grid.steps):
        # --8<-- [start:deis_step]
        eps = run.eps(alpha[i] * xbar, i)  # the slope d xbar / d rho
        run.callback(i, alpha[i] * xbar, eps)
        history = [eps, *history][:4]  # at most order 4
        xbar = xbar + sum(c * e for c, e in zip(coeffs[i], history))
        # --8<-- [end:deis_step]
    x = alpha[-1] * xbar
    if denoise_to_zero:
        x = x0_from_eps(x, run.eps(x, grid.steps), grid, grid.steps)
    return run.done(x)


def _check_order(order, allowed):
    if isinstance(order, bool) or order not in allowed:
        raise ValueError(f"order must be one of {allowed}, got {order!r}")


@grad_option
def deis(
    model_fn,
    x,
    noise_schedule,
    timesteps,
    order: int = 3,
    basis: str = "t",
    lower_order_final: bool = True,
    denoise_to_zero: bool = False,
    callback=None,
    progress: bool = False,
):
    r"""DEIS multistep sampling: N steps, N model calls (one more with
    `denoise_to_zero`).

    - `order`: 1-4, the number of noise predictions each step uses (its global order);
      order 1 is DDIM whatever the basis. The paper's "tAB-$r$" is `basis='t'` with
      `order=r + 1` (a polynomial of degree $r$).
    - `basis`: `'t'` (tAB, the paper's choice), `'rho'` (= LMS) or `'logrho'`
      (diffusers' `DEISMultistepScheduler`).
    - `lower_order_final`: never use more predictions than steps remain (as diffusers
      does below 15 steps).
    - `denoise_to_zero`: return $\hat x_0$ from one more model call at the last time.

    Other arguments as in `ddim`.
    """
    _check_order(order, (1, 2, 3, 4))
    check_choice("basis", basis, BASES)
    grid = make_grid(noise_schedule, timesteps, x)
    orders = step_orders(order, grid.steps, lower_order_final, False)
    coeffs = deis_coefficients(noise_schedule, grid.lam, orders, basis)
    return _multistep(
        model_fn, x, grid, coeffs, denoise_to_zero, callback, progress, "DEIS"
    )


@grad_option
def ipndm(
    model_fn,
    x,
    noise_schedule,
    timesteps,
    order: int = 4,
    lower_order_final: bool = False,
    denoise_to_zero: bool = False,
    callback=None,
    progress: bool = False,
):
    r"""iPNDM: fixed Adams–Bashforth weights of order `order` (1-4) on
    $d\bar x/d\rho = \hat\varepsilon$, N steps, N model calls.

    Step $i$ uses order $\min(i + 1, \text{order})$ (the warm start); with
    `lower_order_final` also never more than the steps left. Other arguments as in
    `deis`.
    """
    _check_order(order, (1, 2, 3, 4))
    grid = make_grid(noise_schedule, timesteps, x)
    orders = step_orders(order, grid.steps, lower_order_final, False)
    coeffs = ipndm_coefficients(grid.sigma_ve, orders)
    return _multistep(
        model_fn, x, grid, coeffs, denoise_to_zero, callback, progress, "iPNDM"
    )
