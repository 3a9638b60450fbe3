r"""Discrete beta schedules and the quantities derived from them.

A DDPM-style model is trained on $N$ steps with per-step noise rates
$\beta_1, \dots, \beta_N$. The cumulative product
$\bar\alpha_n = \prod_{i \le n} (1 - \beta_i)$ is what the forward process
uses: $x_n = \sqrt{\bar\alpha_n}\, x_0 + \sqrt{1 - \bar\alpha_n}\, \varepsilon$.
In the notation of `NoiseScheduleVP`, $\alpha_{t_n}^2 = \bar\alpha_n$ — the
"$\bar\alpha$ vs $\alpha$" naming trap of the literature.
"""

from __future__ import annotations

import math

import torch

from ..validate import check_int, check_number

BETA_SCHEDULES = ("linear", "scaled_linear", "cosine")


def check_betas(betas: torch.Tensor) -> torch.Tensor:
    """Return `betas` as a 1-D float64 tensor, or raise if any lies outside (0, 1)."""
    betas = torch.as_tensor(betas, dtype=torch.float64)
    if betas.ndim != 1 or len(betas) < 2:
        raise ValueError(
            "betas must be a 1-D tensor with at least 2 entries, "
            f"got shape {tuple(betas.shape)}"
        )
    bad = ~((betas > 0) & (betas < 1))
    if bool(bad.any()):
        i = int(bad.nonzero()[0])
        hint = (
            " (a zero-terminal-SNR schedule ends with beta = 1: pass "
            "alphas_cumprod clamped to a tiny positive value, e.g. 2**-24, instead)"
            if float(betas[i]) == 1
            else ""
        )
        raise ValueError(
            "betas must lie in the open interval (0, 1), "
            f"got betas[{i}] = {float(betas[i])!r}{hint}"
        )
    return betas


def check_alphas_cumprod(alphas_cumprod: torch.Tensor) -> torch.Tensor:
    """Return `alphas_cumprod` as float64, or raise unless it is in (0, 1) and strictly
    decreasing.
    """
    ab = torch.as_tensor(alphas_cumprod, dtype=torch.float64)
    if ab.ndim != 1 or len(ab) < 2:
        raise ValueError(
            "alphas_cumprod must be 1-D with at least 2 entries, "
            f"got shape {tuple(ab.shape)}"
        )
    bad = ~((ab > 0) & (ab < 1))
    if bool(bad.any()):
        i = int(bad.nonzero()[0])
        hint = (
            " (a zero-terminal-SNR schedule: clamp it, e.g. to 2**-24, "
            "for a continuous-time solver)"
            if float(ab[i]) == 0
            else " (alpha_bar = 1 means no noise at all: lambda = +inf)"
            if float(ab[i]) == 1
            else ""
        )
        raise ValueError(
            "alphas_cumprod must lie in the open interval (0, 1), "
            f"got alphas_cumprod[{i}] = {float(ab[i])!r}{hint}"
        )
    if bool((ab[1:] >= ab[:-1]).any()):
        i = int((ab[1:] >= ab[:-1]).nonzero()[0]) + 1
        raise ValueError(
            "alphas_cumprod must be strictly decreasing, got "
            f"alphas_cumprod[{i - 1}] = {float(ab[i - 1])!r} <= "
            f"alphas_cumprod[{i}] = {float(ab[i])!r}"
        )
    return ab


# --8<-- [start:beta_schedule]
def beta_schedule(
    name: str,
    num_timesteps: int = 1000,
    beta_start: float | None = None,
    beta_end: float | None = None,
    cosine_s: float = 0.008,
    max_beta: float = 0.999,
) -> torch.Tensor:
    r"""The betas of a named schedule, float64, shape `(num_timesteps,)`.

    - `'linear'` (Ho et al., 2020): $\beta_n$ evenly spaced from `beta_start`=1e-4 to
      `beta_end`=0.02.
    - `'scaled_linear'` (Stable Diffusion): $\sqrt{\beta_n}$ evenly spaced,
      0.00085 to 0.012.
    - `'cosine'` (Nichol & Dhariwal, 2021, eq. 17):
      $\bar\alpha(t) = \cos^2\!\big(\tfrac{t/N + s}{1 + s}\tfrac{\pi}{2}\big)$ and
      $\beta_n = \min(1 - \bar\alpha(n)/\bar\alpha(n-1), 0.999)$.
    """
    if name not in BETA_SCHEDULES:
        raise ValueError(f"name must be one of {BETA_SCHEDULES}, got {name!r}")
    N = check_int("num_timesteps", num_timesteps, lo=2)
    if name in ("linear", "scaled_linear"):
        defaults = (1e-4, 0.02) if name == "linear" else (0.00085, 0.012)
        b0 = defaults[0] if beta_start is None else beta_start
        b1 = defaults[1] if beta_end is None else beta_end
        b0 = check_number("beta_start", b0, 0.0, 1.0, lo_open=True, hi_open=True)
        b1 = check_number("beta_end", b1, b0, 1.0, hi_open=True)
        if name == "linear":
            return torch.linspace(b0, b1, N, dtype=torch.float64)
        return torch.linspace(b0**0.5, b1**0.5, N, dtype=torch.float64) ** 2
    cosine_s = check_number("cosine_s", cosine_s, 0.0)
    max_beta = check_number("max_beta", max_beta, 0.0, 1.0, True, True)
    n = torch.arange(N + 1, dtype=torch.float64)
    alpha_bar = torch.cos((n / N + cosine_s) / (1 + cosine_s) * math.pi / 2) ** 2
    return (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=max_beta)


# --8<-- [end:beta_schedule]


# --8<-- [start:conversions]
def alphas_cumprod_from_betas(betas: torch.Tensor) -> torch.Tensor:
    r"""$\bar\alpha_n = \prod_{i \le n} (1 - \beta_i)$."""
    return torch.cumprod(1 - torch.as_tensor(betas, dtype=torch.float64), dim=0)


def betas_from_alphas_cumprod(alphas_cumprod: torch.Tensor) -> torch.Tensor:
    r"""$\beta_n = 1 - \bar\alpha_n / \bar\alpha_{n-1}$ with $\bar\alpha_0 = 1$."""
    ab = torch.as_tensor(alphas_cumprod, dtype=torch.float64)
    prev = torch.cat([ab.new_ones(1), ab[:-1]])
    return 1 - ab / prev


def snr(alphas_cumprod: torch.Tensor) -> torch.Tensor:
    r"""Signal-to-noise ratio $\alpha^2/\sigma^2 = \bar\alpha / (1 - \bar\alpha)$."""
    ab = torch.as_tensor(alphas_cumprod, dtype=torch.float64)
    return ab / (1 - ab)


def log_snr(alphas_cumprod: torch.Tensor) -> torch.Tensor:
    r"""$\log \mathrm{SNR} = 2\lambda$, computed without forming the ratio."""
    ab = torch.as_tensor(alphas_cumprod, dtype=torch.float64)
    return torch.log(ab) - torch.log1p(-ab)


# --8<-- [end:conversions]


# --8<-- [start:zero_terminal_snr]
def rescale_zero_terminal_snr(betas: torch.Tensor) -> torch.Tensor:
    r"""Rescale betas so the last step has SNR exactly 0 (Lin et al., 2024, Alg. 1).

    $\sqrt{\bar\alpha_n}$ is shifted so its last value is 0 and scaled so its
    first value is unchanged; the returned betas end with $\beta_N = 1$.
    Such a schedule needs a v- or x0-prediction model: at $\bar\alpha_N = 0$
    the input is pure noise, so predicting the noise tells nothing about $x_0$.
    """
    sqrt_ab = alphas_cumprod_from_betas(betas).sqrt()
    first, last = sqrt_ab[0].clone(), sqrt_ab[-1].clone()
    sqrt_ab = (sqrt_ab - last) * first / (first - last)
    return betas_from_alphas_cumprod(sqrt_ab**2)


# --8<-- [end:zero_terminal_snr]
