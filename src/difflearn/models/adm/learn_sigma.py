r"""Outputs of a model trained with a learned variance (`learn_sigma=True`).

Such a model returns $2C$ channels: the noise prediction
$\hat\varepsilon_\theta(x_t, t)$ and a number $v \in [-1, 1]$ per pixel that
interpolates the reverse-step variance, in log space, between its two natural
bounds (Nichol & Dhariwal 2021, Eq. 15):

$$\log \Sigma_\theta(x_t, t) = \frac{v + 1}{2}\log\beta_t
+ \frac{1 - v}{2}\log\tilde\beta_t,
\qquad \tilde\beta_t = \frac{1 - \bar\alpha_{t-1}}{1 - \bar\alpha_t}\beta_t .$$

ODE solvers such as DPM-Solver use only $\hat\varepsilon_\theta$: `eps_only`
wraps the model so that `model_wrapper` sees the noise part.
"""

from __future__ import annotations

import torch

from ...schedules.betas import alphas_cumprod_from_betas


# --8<-- [start:split]
def split_learned_sigma(model_output: torch.Tensor, channels: int | None = None):
    """`(B, 2C, ...)` -> `(eps, v)`, each `(B, C, ...)`; `channels` checks C."""
    C2 = model_output.shape[1]
    if C2 % 2 or (channels is not None and C2 != 2 * channels):
        want = "an even number" if channels is None else 2 * channels
        raise ValueError(f"model_output must have {want} channels, got {C2}")
    return model_output.chunk(2, dim=1)


def eps_only(model, channels: int):
    """Wrap `model(x, t, **kw)` so that it returns only the first `channels` channels
    (the noise).
    """

    def model_fn(x, t, *args, **kwargs):
        out = model(x, t, *args, **kwargs)
        return out[:, :channels] if out.shape[1] == 2 * channels else out

    return model_fn


# --8<-- [end:split]


# --8<-- [start:variance]
def posterior_log_variance_clipped(betas: torch.Tensor) -> torch.Tensor:
    r"""$\log\tilde\beta_t$ for $t = 0..N-1$, the $t = 0$ entry (where
    $\tilde\beta_0 = 0$) replaced by that of $t = 1$, as in guided-diffusion."""
    betas = torch.as_tensor(betas, dtype=torch.float64)
    alphas_cumprod = alphas_cumprod_from_betas(betas)
    alphas_cumprod_prev = torch.cat([alphas_cumprod.new_ones(1), alphas_cumprod[:-1]])
    beta_tilde = betas * (1 - alphas_cumprod_prev) / (1 - alphas_cumprod)
    return torch.log(torch.cat([beta_tilde[1:2], beta_tilde[1:]]))


def learned_log_variance(
    v: torch.Tensor, t: torch.Tensor, betas: torch.Tensor
) -> torch.Tensor:
    r"""$\log\Sigma_\theta$ from the model's `v` at integer steps `t` `(B,)`
    (Eq. 15 above).

    `v` is not clipped: a trained model keeps it near $[-1, 1]$ by itself.
    """
    shape = (-1,) + (1,) * (v.ndim - 1)
    min_log = posterior_log_variance_clipped(betas).to(v.device)[t].reshape(shape)
    max_log = torch.log(betas.double()).to(v.device)[t].reshape(shape)
    frac = (v.double() + 1) / 2
    return (frac * max_log + (1 - frac) * min_log).to(v.dtype)


# --8<-- [end:variance]
