r"""Noise schedules of the variance-preserving (VP) forward process.

The forward process keeps a fraction $\alpha_t$ of the data and adds Gaussian
noise of standard deviation $\sigma_t$:

$$x_t = \alpha_t x_0 + \sigma_t \varepsilon, \qquad \varepsilon \sim \mathcal N(0, I),
\qquad \alpha_t^2 + \sigma_t^2 = 1 .$$

Everything a sampler needs follows from $\log\alpha_t$: the noise level
$\sigma_t = \sqrt{1 - \alpha_t^2}$ and the half log-SNR
$\lambda_t = \log(\alpha_t / \sigma_t)$.

`NoiseScheduleVP` has the names and semantics of the class of the same name in
the official DPM-Solver code (Lu et al., 2022), so code written for it runs
unchanged. `NoiseScheduleVP.marginals` is the one place where samplers, the
exact mixture and the training objectives get $\alpha_t, \sigma_t, \lambda_t$ in
float64. The named beta schedules and time grids live beside it in
`difflearn.schedules.betas` and `difflearn.schedules.grids`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from ..validate import check_number, check_times
from .betas import check_alphas_cumprod, check_betas

SCHEDULES = ("discrete", "linear", "cosine")


# --8<-- [start:interpolate]
def interpolate(x: torch.Tensor, xp: torch.Tensor, fp: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear interpolation of the points `(xp, fp)` at `x`.

    `xp` must be increasing. Outside `[xp[0], xp[-1]]` the first or last
    segment is extended linearly (this matters for the discrete schedule,
    whose grid starts at `t = 1/N`, not at `t = 0`).
    """
    # index of the segment [xp[k], xp[k+1]] that holds each x
    k = torch.searchsorted(xp, x.contiguous()).clamp(1, len(xp) - 1) - 1
    x0, x1, f0, f1 = xp[k], xp[k + 1], fp[k], fp[k + 1]
    return f0 + (x - x0) * (f1 - f0) / (x1 - x0)


# --8<-- [end:interpolate]


class Point(NamedTuple):
    r"""$t$, $\log\alpha_t$, $\alpha_t$, $\sigma_t$ and $\lambda_t$ at one time (Python
    floats).
    """

    t: float
    log_alpha: float
    alpha: float
    sigma: float
    lambda_: float


# --8<-- [start:marginals_table]
@dataclass(frozen=True)
class Marginals:
    r"""$\alpha_t$, $\sigma_t$ and $\lambda_t$ at a set of times, as float64 arrays of
    equal length.

    Built by `NoiseScheduleVP.marginals`; a sampler turns them into per-step
    coefficients before its loop, so no step ever evaluates the schedule.
    """

    t: np.ndarray  # (n,) times
    log_alpha: np.ndarray  # log alpha_t
    alpha: np.ndarray  # alpha_t
    sigma: np.ndarray  # sigma_t = sqrt(1 - alpha_t^2)
    lam: np.ndarray  # lambda_t = log(alpha_t / sigma_t)

    def __len__(self) -> int:
        return len(self.t)

    @property
    def sigma_ve(self) -> np.ndarray:
        r"""$\tilde\sigma_t = \sigma_t / \alpha_t = e^{-\lambda_t}$, the EDM (VE) noise
        level.
        """
        return self.sigma / self.alpha

    def point(self, i: int) -> Point:
        """The marginals at entry `i`, as Python floats."""
        return Point(
            float(self.t[i]),
            float(self.log_alpha[i]),
            float(self.alpha[i]),
            float(self.sigma[i]),
            float(self.lam[i]),
        )

    def points(self) -> list[Point]:
        """Every entry as a `Point`."""
        return [self.point(i) for i in range(len(self))]


# --8<-- [end:marginals_table]


class NoiseScheduleVP:
    r"""A VP noise schedule, queried in continuous time $t \in [\epsilon, T]$.

    Args:
        schedule: `'discrete'` (a DDPM-style table of $\bar\alpha_n$),
            `'linear'` (the continuous linear-$\beta$ VP SDE of Song et al.,
            2021) or `'cosine'` (Nichol & Dhariwal, 2021).
        betas: for `'discrete'`, the $\beta_n$ of the N training steps.
        alphas_cumprod: for `'discrete'`, $\bar\alpha_n = \prod_{i\le n}(1-\beta_i)$
            instead of `betas`.
        continuous_beta_0: $\beta_0$ of the linear schedule
            $\beta(t) = \beta_0 + t(\beta_1 - \beta_0)$.
        continuous_beta_1: $\beta_1$ of the linear schedule.
        dtype: dtype of the stored discrete table.

    Discrete step $n \in \{0, \dots, N-1\}$ sits at continuous time
    $t_n = (n + 1) / N$, and $\log\alpha_t$ is interpolated linearly in $t$
    between grid points, exactly as in the official DPM-Solver code.
    """

    def __init__(
        self,
        schedule: str = "discrete",
        betas: torch.Tensor | None = None,
        alphas_cumprod: torch.Tensor | None = None,
        continuous_beta_0: float = 0.1,
        continuous_beta_1: float = 20.0,
        dtype: torch.dtype = torch.float32,
    ):
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
        if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
        self.schedule = schedule
        # --8<-- [start:discrete_table]
        if schedule == "discrete":
            if betas is not None:
                betas = check_betas(torch.as_tensor(betas))
                log_alphas = 0.5 * torch.log(1 - betas).cumsum(dim=0)
            elif alphas_cumprod is not None:
                alphas_cumprod = check_alphas_cumprod(torch.as_tensor(alphas_cumprod))
                log_alphas = 0.5 * torch.log(alphas_cumprod)
            else:
                raise ValueError(
                    "schedule='discrete' needs betas or alphas_cumprod, got neither"
                )
            self.T = 1.0
            self.log_alpha_array = (
                self.numerical_clip_alpha(log_alphas).reshape((1, -1)).to(dtype=dtype)
            )
            self.total_N = self.log_alpha_array.shape[1]
            if self.total_N < 2:
                raise ValueError(
                    f"the discrete schedule keeps {self.total_N} step(s) with "
                    "lambda >= -5.1 (betas near 1 destroy the signal in one step); "
                    f"got {len(log_alphas)} steps with final alpha_bar "
                    f"{float(torch.exp(2 * log_alphas[-1]))!r}"
                )
            # t_n = (n + 1) / N: the first training step is t = 1/N, not 0
            self.t_array = (
                torch.linspace(0.0, 1.0, self.total_N + 1)[1:]
                .reshape((1, -1))
                .to(dtype=dtype)
            )
        # --8<-- [end:discrete_table]
        else:
            continuous_beta_0 = check_number("continuous_beta_0", continuous_beta_0)
            continuous_beta_1 = check_number("continuous_beta_1", continuous_beta_1)
            if continuous_beta_0 <= 0 or continuous_beta_1 <= continuous_beta_0:
                raise ValueError(
                    "continuous betas must satisfy "
                    "0 < continuous_beta_0 < continuous_beta_1, "
                    f"got {continuous_beta_0!r}, {continuous_beta_1!r}"
                )
            self.total_N = 1000
            self.beta_0 = float(continuous_beta_0)
            self.beta_1 = float(continuous_beta_1)
            self.cosine_s = 0.008
            self.cosine_beta_max = 999.0
            self.cosine_t_max = (
                math.atan(self.cosine_beta_max * (1.0 + self.cosine_s) / math.pi)
                * 2.0
                * (1.0 + self.cosine_s)
                / math.pi
                - self.cosine_s
            )
            self.cosine_log_alpha_0 = math.log(
                math.cos(self.cosine_s / (1.0 + self.cosine_s) * math.pi / 2.0)
            )
            # at t = 1 the cosine schedule has alpha = 0 and lambda = -inf:
            # stop a little earlier
            self.T = 0.9946 if schedule == "cosine" else 1.0

    # --8<-- [start:numerical_clip_alpha]
    @staticmethod
    def numerical_clip_alpha(
        log_alphas: torch.Tensor, clipped_lambda: float = -5.1
    ) -> torch.Tensor:
        r"""Drop the last training steps whose $\lambda$ is below `clipped_lambda`.

        Schedules such as the cosine one reach $\lambda \approx -10$ at the last
        step, where $\sigma_t \approx 1$ and $\log\sigma_t$ loses all precision; the
        official DPM-Solver code keeps only the steps with $\lambda \ge -5.1$ (and so
        do we, to stay identical). Linear-beta DDPM schedules end at
        $\lambda \approx -5.06$ and are not touched.
        """
        log_sigmas = 0.5 * torch.log(1.0 - torch.exp(2.0 * log_alphas))
        lambdas = log_alphas - log_sigmas
        idx = int(torch.searchsorted(torch.flip(lambdas, [0]), clipped_lambda))
        return log_alphas[:-idx] if idx > 0 else log_alphas

    # --8<-- [end:numerical_clip_alpha]

    def __repr__(self) -> str:
        return (
            f"NoiseScheduleVP(schedule={self.schedule!r}, total_N={self.total_N}, "
            f"T={self.T})"
        )

    # --8<-- [start:marginal_log_mean_coeff]
    def marginal_log_mean_coeff(self, t: torch.Tensor) -> torch.Tensor:
        r"""$\log\alpha_t$, the log of the mean coefficient of $q(x_t \mid x_0)$."""
        t, out_dtype = self._query(t)
        return self._log_alpha(t).to(out_dtype)

    def _query(self, t) -> tuple[torch.Tensor, torch.dtype]:
        r"""`t` as a tensor of at least float32 (half precision rounds $\sigma_t$ to 0)
        and the dtype to answer in; times off the domain raise (checked on the CPU
        only: a check on an accelerator would wait for the device).
        """
        if not torch.is_tensor(t):
            t = torch.as_tensor(np.asarray(t, dtype=np.float64))
        elif not t.is_floating_point():
            raise TypeError(f"t must be a floating tensor, got dtype {t.dtype}")
        if t.device.type == "cpu":
            check_times(self, t.detach())
        out_dtype = t.dtype
        if t.dtype in (torch.float16, torch.bfloat16):
            t = t.float()
        return t, out_dtype

    def _log_alpha(self, t: torch.Tensor) -> torch.Tensor:
        if self.schedule == "discrete":
            xp = self.t_array.reshape(-1).to(t.device)
            fp = self.log_alpha_array.reshape(-1).to(t.device)
            return interpolate(t.reshape(-1), xp.to(t.dtype), fp.to(t.dtype))
        if self.schedule == "linear":
            # log alpha_t = -1/2 int_0^t beta(s) ds
            # with  beta(s) = beta_0 + s (beta_1 - beta_0)
            return -0.25 * t**2 * (self.beta_1 - self.beta_0) - 0.5 * t * self.beta_0
        # cosine: alpha_t = f(t) / f(0),  f(t) = cos((t + s) / (1 + s) * pi / 2)
        log_f = torch.log(
            torch.cos((t + self.cosine_s) / (1.0 + self.cosine_s) * math.pi / 2.0)
        )
        return log_f - self.cosine_log_alpha_0

    # --8<-- [end:marginal_log_mean_coeff]

    # --8<-- [start:marginals]
    def marginal_alpha(self, t: torch.Tensor) -> torch.Tensor:
        r"""$\alpha_t$."""
        t, dtype = self._query(t)
        return torch.exp(self._log_alpha(t)).to(dtype)

    def marginal_std(self, t: torch.Tensor) -> torch.Tensor:
        r"""$\sigma_t = \sqrt{1 - \alpha_t^2}$."""
        t, dtype = self._query(t)
        return torch.sqrt(1.0 - torch.exp(2.0 * self._log_alpha(t))).to(dtype)

    def marginal_lambda(self, t: torch.Tensor) -> torch.Tensor:
        r"""$\lambda_t = \log\alpha_t - \log\sigma_t$, half the log signal-to-noise
        ratio.
        """
        t, dtype = self._query(t)
        log_mean_coeff = self._log_alpha(t)
        log_std = 0.5 * torch.log(1.0 - torch.exp(2.0 * log_mean_coeff))
        return (log_mean_coeff - log_std).to(dtype)

    # --8<-- [end:marginals]

    # --8<-- [start:inverse_lambda]
    def inverse_lambda(self, lamb: torch.Tensor) -> torch.Tensor:
        r"""The time $t$ with $\lambda_t$ = `lamb` (the inverse of `marginal_lambda`).

        From $\lambda$ we get $\log\alpha = -\tfrac12\log(1 + e^{-2\lambda})$, then
        invert $\log\alpha_t$: a quadratic for the linear schedule, an arccos for the
        cosine one, and the interpolation table read backwards for discrete.
        """
        zero = torch.zeros((1,), dtype=lamb.dtype, device=lamb.device)
        if self.schedule == "linear":
            # solve  (b1 - b0)/4 t^2 + b0/2 t + log alpha = 0
            # in a cancellation-free form
            tmp = 2.0 * (self.beta_1 - self.beta_0) * torch.logaddexp(-2.0 * lamb, zero)
            delta = self.beta_0**2 + tmp
            return tmp / (torch.sqrt(delta) + self.beta_0) / (self.beta_1 - self.beta_0)
        log_alpha = -0.5 * torch.logaddexp(zero, -2.0 * lamb)
        if self.schedule == "discrete":
            xp = torch.flip(self.log_alpha_array.reshape(-1), [0]).to(
                lamb.device, lamb.dtype
            )
            fp = torch.flip(self.t_array.reshape(-1), [0]).to(lamb.device, lamb.dtype)
            return interpolate(log_alpha.reshape(-1), xp, fp)
        arg = torch.exp(log_alpha + self.cosine_log_alpha_0)
        return torch.arccos(arg) * 2.0 * (1.0 + self.cosine_s) / math.pi - self.cosine_s

    # --8<-- [end:inverse_lambda]

    # --8<-- [start:marginals_method]
    def marginals(self, t, lambdas=None) -> Marginals:
        r"""$\alpha_t$, $\sigma_t$, $\lambda_t$ at the times `t`, in float64 on the CPU.

        $\sigma_t = \sqrt{-\operatorname{expm1}(2\log\alpha_t)}$ keeps full precision
        near $t = 0$, where $1 - \alpha_t^2$ would cancel. If `lambdas` is given it
        replaces $\lambda_t$: a point placed at a target $\lambda$ and mapped to $t$ by
        `inverse_lambda` keeps the target in the step size (the official DPM-Solver's
        convention) while $\alpha_t, \sigma_t$ are read at the mapped $t$.
        """
        t64 = check_times(self, t)  # float64 on the CPU, inside [t_lo, T]
        log_alpha = self._log_alpha(t64).to(torch.float64)
        sigma = torch.sqrt(-torch.expm1(2.0 * log_alpha))
        if lambdas is None:
            lam = log_alpha - torch.log(sigma)
        else:
            lam = torch.as_tensor(lambdas, dtype=torch.float64).reshape(-1)
        return Marginals(
            t64.numpy(),
            log_alpha.numpy(),
            torch.exp(log_alpha).numpy(),
            sigma.numpy(),
            lam.numpy(),
        )

    # --8<-- [end:marginals_method]

    def time_domain(self) -> tuple[float, float]:
        """`(t_lo, T)`: the times the schedule is defined at; `t_lo = 1/N` for a
        discrete table (its first training step), 0 otherwise.
        """
        return (1.0 / self.total_N if self.schedule == "discrete" else 0.0), self.T

    def check_t(
        self, t: torch.Tensor, eps: float = 0.0, name: str = "t"
    ) -> torch.Tensor:
        """Raise a ValueError if any time in `t` is NaN or lies outside
        `[max(eps, t_lo), T]`.
        """
        check_times(self, t, name, lo=eps)
        return torch.as_tensor(t)

    def sigma_to_t(self, sigma_ve: torch.Tensor) -> torch.Tensor:
        r"""The time whose VE noise level $\sigma_t/\alpha_t = e^{-\lambda_t}$ is
        `sigma_ve`.
        """
        return self.inverse_lambda(-torch.log(sigma_ve))

    def edm_sigma(self, t: torch.Tensor) -> torch.Tensor:
        r"""Deprecated: `marginals(t).sigma_ve`, the EDM noise level
        $\sigma_t/\alpha_t = e^{-\lambda_t}$.
        """
        warnings.warn(
            "NoiseScheduleVP.edm_sigma is deprecated: use marginals(t).sigma_ve",
            DeprecationWarning,
            stacklevel=2,
        )
        return torch.exp(-self.marginal_lambda(t))
