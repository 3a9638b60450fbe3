r"""What a step between two candidate times costs, and the cheapest N-step path.

A time grid for N steps is a path through $M + 1$ candidate times, uniform in the
half log-SNR $\lambda$ from $t_\text{start}$ to $t_\text{end}$. If the cost of a grid
is a sum of per-step costs $C_{jk}$ that depend only on the step's two ends, the best
grid is a shortest path with exactly N edges, found by dynamic programming in
$O(N M^2)$ (`shortest_path`). Two such costs:

- `local_error_costs` (GITS, Chen et al., 2024): the error of one DDIM step from the
  reference trajectory at $t_j$ to $t_k$, against the reference state at $t_k$, averaged
  over calibration noises. It needs the model only at the $M + 1$ reference states.
- `klub_costs` (AYS, Sabour et al., 2024): the Kullback–Leibler bound of a step of the
  stochastic sampler that freezes the denoiser at the start of each interval,
  $\int_{\tilde\sigma_k}^{\tilde\sigma_j}
  \mathbb E\,\lVert D(x_\sigma, \sigma) - D(x_{\sigma_j}, \sigma_j)\rVert^2
  \sigma^{-3}\, d\sigma$, with $(x_\sigma, x_{\sigma_j})$ drawn jointly from the forward
  process started at data. It needs data, not a reference solve.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..schedules.vp import Marginals
from .deis import deis


# --8<-- [start:candidates]
def candidate_times(noise_schedule, t_start: float, t_end: float, M: int) -> Marginals:
    r"""$M + 1$ times, uniform in $\lambda$ from `t_start` to `t_end` (end points
    exact).
    """
    if isinstance(M, bool) or not isinstance(M, int) or M < 1:
        raise ValueError(f"candidates must be an int >= 1, got {M!r}")
    ends = noise_schedule.marginals([t_start, t_end])
    lam = np.linspace(ends.lam[0], ends.lam[1], M + 1)
    t = noise_schedule.inverse_lambda(torch.as_tensor(lam)).numpy()
    t[0], t[-1] = t_start, t_end
    return noise_schedule.marginals(t)


# --8<-- [end:candidates]


# --8<-- [start:reference]
def reference_trajectory(model_fn, x_T, noise_schedule, cand: Marginals, substeps=8):
    r"""States $x^\star_k$ and data predictions $\hat x_0(x^\star_k)$ at every
    candidate time, from one fine solve: DEIS of order 4 (`basis='logrho'`) with
    `substeps` steps, uniform in $\lambda$, between neighbouring candidates.

    Returns `(states, x0_preds)`, tensors of shape (M + 1, B, ...); the last data
    prediction costs one extra model call.
    """
    M = len(cand) - 1
    lam = np.concatenate(
        [np.linspace(cand.lam[k], cand.lam[k + 1], substeps + 1)[:-1] for k in range(M)]
        + [cand.lam[-1:]]
    )
    t = noise_schedule.inverse_lambda(torch.as_tensor(lam)).clone()
    t[::substeps] = torch.as_tensor(cand.t)  # the candidates themselves, exactly
    states, x0s = [], []

    def keep(d):
        if d["i"] % substeps == 0:
            states.append(d["x_t"])
            x0s.append(d["x0_pred"])

    with torch.no_grad():
        x_end = deis(model_fn, x_T, noise_schedule, t, 4, "logrho", callback=keep)
        eps = model_fn(x_end, torch.full((len(x_end),), float(cand.t[-1])))
    states.append(x_end)
    x0s.append((x_end - float(cand.sigma[-1]) * eps) / float(cand.alpha[-1]))
    return torch.stack(states), torch.stack(x0s)


# --8<-- [end:reference]


@dataclass
class Reference:
    """A reference solve from the calibration noises `x_T`: the candidate times
    `cand` and, at each, the states (M + 1, B, ...) and data predictions.
    """

    x_T: torch.Tensor
    cand: Marginals
    states: torch.Tensor
    x0_preds: torch.Tensor

    @property
    def x_end(self) -> torch.Tensor:
        return self.states[-1]


def calibrate(
    model_fn, x_T, noise_schedule, t_start, t_end, candidates=64, substeps=8
) -> Reference:
    """Candidate times (`candidate_times`) and the reference solve on them
    (`reference_trajectory`), computed once and shared by every sampler and NFE.
    """
    cand = candidate_times(noise_schedule, t_start, t_end, candidates)
    states, x0s = reference_trajectory(model_fn, x_T, noise_schedule, cand, substeps)
    return Reference(x_T, cand, states, x0s)


def _mean_norm(d: torch.Tensor) -> torch.Tensor:
    """Mean over the batch (dim 1) of the Euclidean norm over the data dimensions."""
    return d.flatten(2).norm(dim=2).mean(dim=1)


# --8<-- [start:local_error_costs]
def local_error_costs(cand: Marginals, states, x0_preds) -> np.ndarray:
    r"""$C_{jk}$ = mean $\lVert x^{\text{DDIM}}_{j\to k} - x^\star_k\rVert$ for
    $j < k$ (inf elsewhere).

    The DDIM step from the reference state is
    $x_{j\to k} = \alpha_k \hat x_0(x^\star_j) + \sigma_k\hat\varepsilon_j$ with
    $\hat\varepsilon_j = (x^\star_j - \alpha_j\hat x_0(x^\star_j))/\sigma_j$
    (Chen et al., 2024, Sec. 4).
    """
    M1 = len(cand)
    eps = (states - _bcast(cand.alpha, states) * x0_preds) / _bcast(cand.sigma, states)
    C = np.full((M1, M1), np.inf)
    for j in range(M1 - 1):
        k = slice(j + 1, M1)
        step = (
            _bcast(cand.alpha[k], states) * x0_preds[j]
            + _bcast(cand.sigma[k], states) * eps[j]
        )
        C[j, k] = _mean_norm(step - states[k]).double().numpy()
    return C


# --8<-- [end:local_error_costs]


def _bcast(v: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """A (n,) float64 array as a (n, 1, 1, ...) tensor that broadcasts against
    (n, B, ...).
    """
    return torch.as_tensor(v, dtype=like.dtype).reshape(-1, *[1] * (like.ndim - 1))


# --8<-- [start:klub_costs]
def klub_costs(model_fn, x0: torch.Tensor, cand: Marginals, generator=None):
    r"""$C_{jk} = \int_{\tilde\sigma_k}^{\tilde\sigma_j} \mathbb E\,\lVert D_\sigma -
    D_{\sigma_j}\rVert^2 \sigma^{-3} d\sigma$ for $j < k$ (inf elsewhere), AYS's bound.

    One Brownian path per data point $x_0$ (B, ...) gives the joint law of every pair:
    $\tilde x_{\sigma_k} = x_0 + \tilde\sigma_k w$ along increasing noise, and
    $D = \hat x_0$ of the model at $x_t = \alpha_t \tilde x$. The integral is the
    trapezoidal rule in $u = \log\tilde\sigma$ ($d\sigma/\sigma^3 = e^{-2u}du$) on the
    candidate levels. $M + 1$ model calls on a batch of B.
    """
    sig = cand.sigma_ve  # decreasing
    M1 = len(cand)
    xt, z = x0.clone(), torch.zeros_like(x0)
    D = [None] * M1
    with torch.no_grad():
        for k in range(M1 - 1, -1, -1):  # from the least noisy level upwards
            prev = 0.0 if k == M1 - 1 else sig[k + 1]
            z = z + float(np.sqrt(sig[k] ** 2 - prev**2)) * torch.randn(
                x0.shape, generator=generator, dtype=x0.dtype
            )
            xt = float(cand.alpha[k]) * (x0 + z)
            t = torch.full((len(x0),), float(cand.t[k]), dtype=x0.dtype)
            eps = model_fn(xt, t)
            D[k] = (xt - float(cand.sigma[k]) * eps) / float(cand.alpha[k])
    D = torch.stack(D).flatten(2)  # (M + 1, B, d)
    u = np.log(sig)
    C = np.full((M1, M1), np.inf)
    for j in range(M1 - 1):
        g = ((D[j:] - D[j]) ** 2).sum(-1).mean(-1).double().numpy() / sig[j:] ** 2
        du = u[j:-1] - u[j + 1 :]  # > 0
        C[j, j + 1 :] = np.cumsum(du * 0.5 * (g[:-1] + g[1:]))
    return C


# --8<-- [end:klub_costs]


# --8<-- [start:shortest_path]
def shortest_path(C: np.ndarray, steps: int) -> list[int]:
    r"""The indices $0 = k_0 < k_1 < \dots < k_N = M$ minimising $\sum_n C_{k_{n-1}
    k_n}$ over paths of exactly N = `steps` edges (dynamic programming).

    $V_n(k) = \min_{j<k} V_{n-1}(j) + C_{jk}$, $V_0 = 0$ at index 0 and $\infty$
    elsewhere; the path is read back from the argmins.
    """
    M1 = C.shape[0]
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps < M1:
        raise ValueError(
            f"steps must be an int in [1, {M1 - 1}] (fewer than the candidates), "
            f"got {steps!r}"
        )
    V = np.full(M1, np.inf)
    V[0] = 0.0
    arg = np.zeros((steps + 1, M1), dtype=int)
    for n in range(1, steps + 1):
        total = V[:, None] + C  # (j, k)
        arg[n] = np.argmin(total, axis=0)
        V = total[arg[n], np.arange(M1)]
    path = [M1 - 1]
    for n in range(steps, 0, -1):
        path.append(int(arg[n, path[-1]]))
    return path[::-1]


# --8<-- [end:shortest_path]
