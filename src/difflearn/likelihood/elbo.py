r"""The variational bound of a discrete-time DDPM (Ho et al., 2020, eq. 5), per sample.

A DDPM with $N$ steps is a Markov chain $p_\theta(x_{0:N}) = p(x_N)\prod_n
p_\theta(x_{n-1} \mid x_n)$ with Gaussian steps of fixed variance $\sigma_n^2$. Its
log-likelihood is bounded below by

$$\log p_\theta(x_0) \ge -\underbrace{\mathrm{KL}(q(x_N \mid x_0)\,\|\,p(x_N))}_{L_N}
- \sum_{n=2}^{N}\underbrace{\mathbb E_q\,\mathrm{KL}(q(x_{n-1} \mid x_n, x_0)\,\|\,
p_\theta(x_{n-1} \mid x_n))}_{L_{n-1}}
+ \underbrace{\mathbb E_q \log p_\theta(x_0 \mid x_1)}_{-L_0},$$

and with $\mu_\theta = (x_n - \beta_n\hat\varepsilon/\sqrt{1-\bar\alpha_n})
/\sqrt{\alpha_n}$ each KL is a constant plus
$\beta_n^2\,\|\varepsilon - \hat\varepsilon\|^2
/ (2\sigma_n^2\alpha_n(1-\bar\alpha_n))$ (eq. 12). This bound is for the *chain*, a
different
model from the probability-flow ODE of the same network: the two agree only in the
limit of exact scores and infinitely many steps.
"""

from __future__ import annotations

import math

import torch

from ..schedules.betas import check_betas

VARIANCES = ("small", "large")


def _log_normal_cdf(z: torch.Tensor) -> torch.Tensor:
    return torch.special.log_ndtr(z)


# --8<-- [start:decoder]
def discretized_gaussian_log_p(x0, mean, std, bin_width: float, low=-1.0, high=1.0):
    r"""$\log\int_{\text{bin}(x_0)}\mathcal N(x; \mu, s^2)\,dx$ summed over dimensions:
    bins of width `bin_width` centred on the data values, the outermost ones open to
    $\mp\infty$ (Ho et al., 2020, eq. 13)."""
    upper = (x0 + bin_width / 2 - mean) / std
    lower = (x0 - bin_width / 2 - mean) / std
    log_cdf_up = _log_normal_cdf(upper)
    log_sf_low = _log_normal_cdf(-lower)  # log(1 - Phi(lower))
    # log(Phi(upper) - Phi(lower)), stably
    mid = log_cdf_up + torch.log(-torch.expm1(_log_normal_cdf(lower) - log_cdf_up))
    out = torch.where(
        x0 <= low + 1e-6, log_cdf_up, torch.where(x0 >= high - 1e-6, log_sf_low, mid)
    )
    return out.flatten(1).sum(1)


# --8<-- [end:decoder]


# --8<-- [start:ddpm_elbo]
@torch.no_grad()
def ddpm_elbo(
    model_fn,
    x0: torch.Tensor,
    betas: torch.Tensor,
    variance: str = "small",
    bin_width: float | None = None,
    generator: torch.Generator | None = None,
) -> dict:
    r"""The bound above for every sample of `x0` (B, ...), in nats, with one draw of
    $x_n \sim q(x_n \mid x_0)$ per step (an unbiased estimate).

    `model_fn(x, t)` is the noise prediction at continuous time $t = n/N$ (what
    `model_wrapper` gives for a discrete schedule with these `betas`). `variance`:
    $\sigma_n^2 = \tilde\beta_n$ (`"small"`) or $\beta_n$ (`"large"`); the decoder
    $p_\theta(x_0 \mid x_1)$ always uses $\beta_1$ (as $\tilde\beta_1 = 0$). With
    `bin_width` the decoder is the discretized Gaussian (for data on a grid of that
    spacing in $[-1, 1]$); without, a Gaussian density. Returns `elbo`, `prior`
    ($L_N$), `kl` ($\sum L_{n-1}$) and `decoder` ($-L_0$), each (B,).
    """
    if variance not in VARIANCES:
        raise ValueError(f"variance must be one of {VARIANCES}, got {variance!r}")
    betas = check_betas(betas)
    N, B = len(betas), x0.shape[0]
    D = x0[0].numel()
    alphas = 1 - betas
    abar = torch.cumprod(alphas, 0)  # abar[n - 1] is abar_n
    x0d = x0.to(torch.float64)

    def eps_hat(x_n, n):
        t = torch.full((B,), n / N, dtype=torch.float64).to(x0.device)
        return model_fn(x_n.to(x0.dtype), t.to(x0.dtype)).to(torch.float64)

    def x_n_and_eps(n):
        eps = torch.randn(x0d.shape, generator=generator, dtype=torch.float64)
        eps = eps.to(x0.device)
        return abar[n - 1].sqrt() * x0d + (1 - abar[n - 1]).sqrt() * eps, eps

    # L_N: KL(N(sqrt(abar_N) x0, (1 - abar_N) I) || N(0, I))
    a, v = abar[-1], 1 - abar[-1]
    prior = 0.5 * (a * x0d**2 + v - 1 - torch.log(v)).flatten(1).sum(1)
    kl = torch.zeros(B, dtype=torch.float64, device=x0.device)
    for n in range(2, N + 1):
        b, a_n, ab, ab_prev = betas[n - 1], alphas[n - 1], abar[n - 1], abar[n - 2]
        beta_tilde = (1 - ab_prev) / (1 - ab) * b
        var = beta_tilde if variance == "small" else b
        x_n, eps = x_n_and_eps(n)
        sq = ((eps - eps_hat(x_n, n)) ** 2).flatten(1).sum(1)
        const = 0.5 * D * (torch.log(var / beta_tilde) + beta_tilde / var - 1)
        kl = kl + const + b**2 / (2 * var * a_n * (1 - ab)) * sq
    x_1, _ = x_n_and_eps(1)
    mean = (x_1 - betas[0] / (1 - abar[0]).sqrt() * eps_hat(x_1, 1)) / alphas[0].sqrt()
    std = betas[0].sqrt()
    if bin_width is None:
        decoder = (
            (
                -0.5 * ((x0d - mean) / std) ** 2
                - torch.log(std)
                - 0.5 * math.log(2 * math.pi)
            )
            .flatten(1)
            .sum(1)
        )
    else:
        decoder = discretized_gaussian_log_p(x0d, mean, std, bin_width)
    return {"elbo": decoder - prior - kl, "prior": prior, "kl": kl, "decoder": decoder}


# --8<-- [end:ddpm_elbo]


__all__ = ["VARIANCES", "ddpm_elbo", "discretized_gaussian_log_p"]
