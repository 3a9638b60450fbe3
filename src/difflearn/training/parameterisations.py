r"""One network, four output heads, and the weight over noise levels each one implies.

A diffusion network sees $x_t = \alpha_t x_0 + \sigma_t\varepsilon$ and may be trained
to output any of

$$\varepsilon, \qquad x_0, \qquad v = \alpha_t\varepsilon - \sigma_t x_0
\ \text{(Salimans \& Ho, 2022)}, \qquad s = -\varepsilon/\sigma_t
\ \text{(the score of } q(x_t \mid x_0)).$$

Given $x_t$, each is an affine function of any other, so they are one model seen
through different heads (`head_to_eps`, `head_to_x0`). What differs is the loss: an
error $\Delta\varepsilon$ in the noise is an error
$\Delta x_0 = -(\sigma_t/\alpha_t)\,\Delta\varepsilon$ in the data, and the plain MSE of
each head weights the noise levels differently (`eps_weight`):

$$\|\Delta x_0\|^2 = e^{-2\lambda}\|\Delta\varepsilon\|^2, \quad
\|\Delta v\|^2 = \Big(\frac{\alpha_t^2 + \sigma_t^2}{\alpha_t}\Big)^2
\|\Delta\varepsilon\|^2, \quad \|\Delta s\|^2 = \sigma_t^{-2}\|\Delta\varepsilon\|^2 .$$

`parameterised_loss` trains any head under any weighting of the noise levels, written in
the units of $\varepsilon$ (`WEIGHTINGS`): SNR (= the $\varepsilon$-MSE), SNR + 1
(= the $v$-MSE), truncated SNR (Salimans & Ho, 2022), min-SNR-$\gamma$ (Hang et al.,
2023) and the likelihood weighting of the continuous-time ELBO (Kingma et al., 2021;
Song et al., 2021a), $-\mathrm d\lambda/\mathrm dt$ per unit of $t$.
"""

from __future__ import annotations

import torch
from torch import nn

from ..model_wrapper import model_input_time
from .objectives import noised_batch

PREDICTIONS = ("eps", "x0", "v", "score")
WEIGHTINGS = ("none", "snr", "snr+1", "truncated_snr", "min_snr", "likelihood")


def _check(name, value, allowed):
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


def _shape(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A (B,) coefficient as (B, 1, ..., 1), in `x`'s dtype and device."""
    return v.reshape((-1,) + (1,) * (x.dim() - 1)).to(x)


# --8<-- [start:heads]
def head_target(prediction: str, x0, eps, alpha, sigma) -> torch.Tensor:
    r"""What the head regresses: $\varepsilon$, $x_0$,
    $v = \alpha_t\varepsilon - \sigma_t x_0$ or $s = -\varepsilon/\sigma_t$.

    `alpha`, `sigma` are (B,) tensors; `x0`, `eps` are (B, ...).
    """
    _check("prediction", prediction, PREDICTIONS)
    a, s = _shape(alpha, x0), _shape(sigma, x0)
    if prediction == "eps":
        return eps
    if prediction == "x0":
        return x0
    if prediction == "v":
        return a * eps - s * x0
    return -eps / s


def head_to_x0(prediction: str, out, x_t, alpha, sigma) -> torch.Tensor:
    r"""$\hat x_0$ from a head's output: $(x_t - \sigma_t\hat\varepsilon)/\alpha_t$,
    $\hat x_0$, $(\alpha_t x_t - \sigma_t\hat v)/(\alpha_t^2 + \sigma_t^2)$ or
    $(x_t + \sigma_t^2\hat s)/\alpha_t$.
    """
    _check("prediction", prediction, PREDICTIONS)
    a, s = _shape(alpha, x_t), _shape(sigma, x_t)
    if prediction == "eps":
        return (x_t - s * out) / a
    if prediction == "x0":
        return out
    if prediction == "v":
        return (a * x_t - s * out) / (a**2 + s**2)
    return (x_t + s**2 * out) / a


def head_to_eps(prediction: str, out, x_t, alpha, sigma) -> torch.Tensor:
    r"""$\hat\varepsilon = (x_t - \alpha_t\hat x_0)/\sigma_t$ from any head."""
    if prediction == "eps":
        return out
    a, s = _shape(alpha, x_t), _shape(sigma, x_t)
    return (x_t - a * head_to_x0(prediction, out, x_t, alpha, sigma)) / s


# --8<-- [end:heads]


# --8<-- [start:weights]
def eps_weight(prediction: str, alpha, sigma) -> torch.Tensor:
    r"""$g$ with $\|\text{head} - \text{target}\|^2 = g\,\|\hat\varepsilon -
    \varepsilon\|^2$: $1$, $\sigma_t^2/\alpha_t^2$,
    $(\alpha_t^2 + \sigma_t^2)^2/\alpha_t^2$ or $1/\sigma_t^2$."""
    _check("prediction", prediction, PREDICTIONS)
    if prediction == "eps":
        return torch.ones_like(alpha)
    if prediction == "x0":
        return (sigma / alpha) ** 2
    if prediction == "v":
        return (alpha**2 + sigma**2) ** 2 / alpha**2
    return 1.0 / sigma**2


def weighting_eps(
    weighting: str, alpha, sigma, gamma: float = 5.0, dlambda_dt=None
) -> torch.Tensor:
    r"""A weighting of the noise levels in $\varepsilon$ units, $w_\varepsilon$.

    Papers state weights on $\|\Delta x_0\|^2$; with $\mathrm{SNR} = e^{2\lambda}$ that
    is $w_\varepsilon = w_{x_0}/\mathrm{SNR}$: `"snr"` ($w_{x_0} = \mathrm{SNR}$:
    $w_\varepsilon = 1$), `"snr+1"` ($1 + 1/\mathrm{SNR}$), `"truncated_snr"`
    ($\max(1, 1/\mathrm{SNR})$), `"min_snr"` ($\min(1, \gamma/\mathrm{SNR})$, Hang et
    al., 2023) and `"likelihood"` ($-\mathrm d\lambda/\mathrm dt$, given as
    `dlambda_dt`): with $t$ uniform this makes the loss the diffusion term of the
    continuous-time ELBO (Kingma et al., 2021, eq. 17).
    """
    _check("weighting", weighting, WEIGHTINGS[1:])
    snr = (alpha / sigma) ** 2
    if weighting == "snr":
        return torch.ones_like(snr)
    if weighting == "snr+1":
        return 1.0 + 1.0 / snr
    if weighting == "truncated_snr":
        return torch.clamp(1.0 / snr, min=1.0)
    if weighting == "min_snr":
        if not gamma > 0:
            raise ValueError(f"gamma must be > 0, got {gamma!r}")
        return torch.clamp(gamma / snr, max=1.0)
    if dlambda_dt is None:
        raise ValueError("weighting='likelihood' needs dlambda_dt, got None")
    return -dlambda_dt


# --8<-- [end:weights]


def dlambda_dt(noise_schedule, t: torch.Tensor) -> torch.Tensor:
    r"""$\mathrm d\lambda_t/\mathrm dt$ at the times `t` (float64, by autograd through
    the schedule's `marginal_lambda`; piecewise constant for a discrete table)."""
    # autograd also inside no_grad() / inference_mode() (samplers are called there)
    with torch.inference_mode(False), torch.enable_grad():
        t = t.detach().to("cpu", torch.float64).clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(noise_schedule.marginal_lambda(t).sum(), t)
    return grad.detach()


# --8<-- [start:parameterised_loss]
def parameterised_loss(
    model: nn.Module,
    noise_schedule,
    batch: dict,
    prediction: str = "eps",
    weighting: str = "none",
    gamma: float = 5.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""The loss of a `prediction` head under a `weighting` of the noise levels:

    $$\frac1B\sum_i \frac{w_\varepsilon(t_i)}{g(t_i)}\,
    \frac{\|\text{head}_\theta(x_{t_i}, t_i) - \text{target}_i\|^2}{D},$$

    with $g$ = `eps_weight` (the head's own weight) and $w_\varepsilon$ =
    `weighting_eps`; `weighting="none"` is the plain MSE of the head ($w_\varepsilon =
    g$). `batch` comes from `make_batch_fn` (it carries $\alpha_t, \sigma_t$);
    `reduction="none"` returns the (B,) per-sample losses.
    """
    _check("reduction", reduction, ("mean", "none"))
    _check("weighting", weighting, WEIGHTINGS)
    x_t = noised_batch(noise_schedule, batch)  # (B, C, H, W)
    alpha, sigma = batch["alpha"].to(torch.float64), batch["sigma"].to(torch.float64)
    t_in = model_input_time(noise_schedule, batch["t"].to(torch.float64)).to(x_t.dtype)
    out = model(x_t, t_in) if "y" not in batch else model(x_t, t_in, batch["y"])
    target = head_target(prediction, batch["x0"], batch["eps"], alpha, sigma)
    per_sample = ((out - target) ** 2).flatten(1).mean(1)  # (B,)
    if weighting != "none":
        d = (
            dlambda_dt(noise_schedule, batch["t"])
            if weighting == "likelihood"
            else None
        )
        w = weighting_eps(weighting, alpha, sigma, gamma, d)
        w = w / eps_weight(prediction, alpha, sigma)
        per_sample = per_sample * w.to(per_sample)
    return per_sample.mean() if reduction == "mean" else per_sample


# --8<-- [end:parameterised_loss]


__all__ = [
    "PREDICTIONS",
    "WEIGHTINGS",
    "dlambda_dt",
    "eps_weight",
    "head_target",
    "head_to_eps",
    "head_to_x0",
    "parameterised_loss",
    "weighting_eps",
]
