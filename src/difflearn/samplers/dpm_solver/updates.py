r"""The update rules of DPM-Solver and DPM-Solver++, one small function each.

Both solvers integrate the probability-flow ODE in the half log-SNR
$\lambda_t = \log(\alpha_t/\sigma_t)$. Its linear part is solved exactly, so a
step from $s$ to $t$ only has to approximate an exponentially weighted
integral of the model output (Lu et al., 2022a, eq. 3.4; Lu et al., 2022b, Sec. 3):

$$x_t = \frac{\alpha_t}{\alpha_s} x_s - \alpha_t \int_{\lambda_s}^{\lambda_t}
e^{-\lambda}\, \hat\epsilon(x_\lambda, \lambda)\, d\lambda
\qquad\text{(noise prediction)},$$

$$x_t = \frac{\sigma_t}{\sigma_s} x_s + \sigma_t \int_{\lambda_s}^{\lambda_t}
e^{\lambda}\, \hat x_0(x_\lambda, \lambda)\, d\lambda
\qquad\text{(data prediction)}.$$

Every rule is therefore a linear combination of the state and of model outputs
$m$ ($\hat\epsilon$ for `"dpmsolver"`, $\hat x_0$ for `"dpmsolver++"`):

$$x_t = a\,x_s - b\,m_s - \sum_k c_k\,(m_{r_k} - m_s),$$

where $m_{r}$ is the model output at $\lambda_s + r h$. A singlestep solver
evaluates the model inside the step ($0 < r < 1$); a multistep solver reuses
outputs of earlier steps ($r < 0$). The weights $a, b, c_k$ depend only on
the time grid, so `DPM_Solver` computes them once per `sample()` call in
float64 (the `*_coefficients` functions, plain Python floats) and the step loop
is a few tensor operations (the `*_update` functions). The points `s` and `t` are
`difflearn.schedules.Point`s: $t$, $\log\alpha$, $\alpha$, $\sigma$, $\lambda$ as
floats.
"""

from __future__ import annotations

import math

import torch

from ...schedules.vp import Point

ALGORITHM_TYPES = ("dpmsolver", "dpmsolver++")
SOLVER_TYPES = ("dpmsolver", "taylor")  # the form of the higher-order corrections


# --8<-- [start:dpm_solver_first_update]
def first_order_coefficients(
    algorithm_type: str, s: Point, t: Point
) -> tuple[float, float]:
    r"""Weights $(a, b)$ of DPM-Solver-1 from $s$ to $t$: $x_t = a\,x_s - b\,m_s$.

    $$\texttt{dpmsolver}:\ x_t = \frac{\alpha_t}{\alpha_s}x_s
    - \sigma_t(e^{h}-1)\,\hat\epsilon_s,
    \qquad \texttt{dpmsolver++}:\ x_t = \frac{\sigma_t}{\sigma_s}x_s
    - \alpha_t(e^{-h}-1)\,\hat x_{0,s}$$

    (Lu et al., 2022a, DPM-Solver-1; Lu et al., 2022b, first-order DPM-Solver++).
    Both are DDIM with $\eta = 0$ (Song et al., 2021a), written in $\lambda$.
    """
    h = t.lambda_ - s.lambda_
    if algorithm_type == "dpmsolver++":
        return t.sigma / s.sigma, t.alpha * math.expm1(-h)
    return math.exp(t.log_alpha - s.log_alpha), t.sigma * math.expm1(h)


def dpm_solver_first_update(
    x: torch.Tensor, model_s: torch.Tensor, coeffs
) -> torch.Tensor:
    """One DPM-Solver-1 step: `a * x - b * model_s`."""
    a, b = coeffs
    return a * x - b * model_s


# --8<-- [end:dpm_solver_first_update]


# --8<-- [start:dpm_solver_second_update]
def second_order_coefficients(
    algorithm_type: str, solver_type: str, s: Point, t: Point, r: float
) -> tuple[float, float, float]:
    r"""Weights $(a, b, c)$ of a second-order step:
    $x_t = a\,x_s - b\,m_s - c\,(m_r - m_s)$.

    $m_r$ is the model output at $\lambda_s + r h$; $(m_r - m_s)/r \approx h\,m'$
    estimates the first derivative in $\lambda$. With `solver_type="taylor"` the
    correction is the exact integral of a linear $m$, e.g. for noise prediction
    $c = \sigma_t\,(\tfrac{e^h - 1}{h} - 1)/r$; `"dpmsolver"` uses the simpler
    $c = b/(2r)$, which has the same order (Lu et al., 2022a, DPM-Solver-2;
    Lu et al., 2022b, DPM-Solver++(2S) with $r > 0$, DPM-Solver++(2M) with
    $r = -h_{\text{prev}}/h < 0$).
    """
    a, b = first_order_coefficients(algorithm_type, s, t)
    h = t.lambda_ - s.lambda_
    if solver_type == "dpmsolver":
        c = 0.5 / r * b
    elif algorithm_type == "dpmsolver++":
        c = -(math.expm1(-h) / h + 1.0) * t.alpha / r
    else:
        c = (math.expm1(h) / h - 1.0) * t.sigma / r
    return a, b, c


def dpm_solver_second_update(
    x: torch.Tensor, model_s: torch.Tensor, model_r: torch.Tensor, coeffs
) -> torch.Tensor:
    """One second-order step: `a * x - b * model_s - c * (model_r - model_s)`."""
    a, b, c = coeffs
    return a * x - b * model_s - c * (model_r - model_s)


# --8<-- [end:dpm_solver_second_update]


# --8<-- [start:dpm_solver_third_update]
def third_order_coefficients(
    algorithm_type: str,
    s: Point,
    t: Point,
    r1: float,
    r2: float,
    d2_weight: float = 1.0,
) -> tuple[float, float, float, float]:
    r"""Weights $(a, b, c_1, c_2)$ of a third-order Taylor step:
    $x_t = a\,x_s - b\,m_s - c_1 (m_{r_1} - m_s) - c_2 (m_{r_2} - m_s)$.

    From the outputs at $\lambda_s + r_1 h$ and $\lambda_s + r_2 h$ the step estimates
    $D_1 \approx h\,m'$ and $D_2 \approx h^2 m''$ by divided differences and adds
    $\mp\,\text{scale}\cdot(\varphi_2 D_1 \pm \varphi_3 D_2)$ with
    $\varphi_2 = \tfrac{e^{\pm h}-1}{h} \mp 1$,
    $\varphi_3 = \tfrac{\varphi_2}{h} - \tfrac12$ (Lu et al., 2022a, Sec. 3.2).
    `d2_weight` scales the $D_2$ term: the official multistep DPM-Solver-3 uses
    $\tfrac12$ (see `DPM_Solver`), which makes it second-order accurate; $1$ is the
    Taylor-consistent value.
    """
    a, b = first_order_coefficients(algorithm_type, s, t)
    h = t.lambda_ - s.lambda_
    if algorithm_type == "dpmsolver++":
        phi_2 = math.expm1(-h) / h + 1.0
        scale_1, scale_2 = -t.alpha * phi_2, t.alpha * (phi_2 / h - 0.5)
    else:
        phi_2 = math.expm1(h) / h - 1.0
        scale_1, scale_2 = t.sigma * phi_2, t.sigma * (phi_2 / h - 0.5)
    scale_2 *= d2_weight
    # D1 = (r2/r1 d1 - r1/r2 d2) / (r2 - r1),  D2 = 2 (d2/r2 - d1/r1) / (r2 - r1),
    # d_k = m_{r_k} - m_s
    c1 = scale_1 * (r2 / r1) / (r2 - r1) - scale_2 * 2.0 / (r1 * (r2 - r1))
    c2 = -scale_1 * (r1 / r2) / (r2 - r1) + scale_2 * 2.0 / (r2 * (r2 - r1))
    return a, b, c1, c2


def dpm_solver_third_update(
    x: torch.Tensor,
    model_s: torch.Tensor,
    model_r1: torch.Tensor,
    model_r2: torch.Tensor,
    coeffs,
) -> torch.Tensor:
    """One third-order step:
    `a * x - b * m_s - c1 * (m_r1 - m_s) - c2 * (m_r2 - m_s)`.
    """
    a, b, c1, c2 = coeffs
    return a * x - b * model_s - c1 * (model_r1 - model_s) - c2 * (model_r2 - model_s)


# --8<-- [end:dpm_solver_third_update]


# --8<-- [start:dynamic_thresholding]
def dynamic_thresholding(
    x0: torch.Tensor, ratio: float = 0.995, max_val: float = 1.0
) -> torch.Tensor:
    r"""Imagen's dynamic thresholding (Saharia et al., 2022), as in the official
    DPM-Solver.

    Per sample, $s = \max(\text{quantile}_{\text{ratio}}(|x_0|), \text{max\_val})$;
    then $x_0 \leftarrow \text{clip}(x_0, -s, s) / s$.
    """
    flat = x0.abs().reshape(x0.shape[0], -1)  # (B, D)
    s = torch.quantile(
        flat if flat.dtype in (torch.float32, torch.float64) else flat.float(),
        ratio,
        dim=1,
    )
    s = (
        torch.clamp(s, min=max_val).to(x0.dtype).reshape((-1,) + (1,) * (x0.dim() - 1))
    )  # (B, 1, ...)
    return torch.clamp(x0, -s, s) / s


# --8<-- [end:dynamic_thresholding]
