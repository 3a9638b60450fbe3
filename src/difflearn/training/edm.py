r"""EDM's training design (Karras et al., 2022, Table 1 and Sec. 5): preconditioning,
loss weight and the log-normal noise levels.

EDM writes the noisy data in VE form, $\tilde x = x_0 + \sigma n$, and trains a
*denoiser* $D(\tilde x; \sigma) \approx \mathbb E[x_0 \mid \tilde x]$ built around a raw
network $F_\theta$ so that the network's inputs and targets have unit variance at every
$\sigma$:

$$D_\theta(\tilde x; \sigma) = c_\text{skip}(\sigma)\,\tilde x
+ c_\text{out}(\sigma)\,F_\theta\big(c_\text{in}(\sigma)\,\tilde x;
c_\text{noise}(\sigma)\big),$$

$$c_\text{skip} = \frac{\sigma_\text{data}^2}{\sigma^2 + \sigma_\text{data}^2},\quad
c_\text{out} = \frac{\sigma\,\sigma_\text{data}}{\sqrt{\sigma^2 +
\sigma_\text{data}^2}},\quad
c_\text{in} = \frac{1}{\sqrt{\sigma^2 + \sigma_\text{data}^2}},\quad
c_\text{noise} = \tfrac14\ln\sigma .$$

The loss $\lambda(\sigma)\,\|D_\theta - x_0\|^2$ with $\lambda(\sigma) =
1/c_\text{out}^2$ is then exactly the unit-weight MSE of $F_\theta$ against its
effective target $(x_0 - c_\text{skip}\tilde x)/c_\text{out}$, and $\ln\sigma \sim
\mathcal N(P_\text{mean}, P_\text{std}^2)$ puts the training where it matters.
`edm_noise_fn` turns the denoiser into the noise prediction every sampler of
`difflearn` integrates, on any VP schedule ($\tilde x = x_t/\alpha_t$,
$\sigma = \sigma_t/\alpha_t$).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .loop import TrainConfig, TrainResult, fit


def _shape(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return v.reshape((-1,) + (1,) * (x.dim() - 1)).to(x)


# --8<-- [start:preconditioning]
def edm_preconditioning(sigma: torch.Tensor, sigma_data: float = 0.5):
    r"""$(c_\text{skip}, c_\text{out}, c_\text{in}, c_\text{noise})$ at the noise
    levels `sigma` (Karras et al., 2022, Table 1)."""
    if not sigma_data > 0:
        raise ValueError(f"sigma_data must be > 0, got {sigma_data!r}")
    sigma = torch.as_tensor(sigma)
    if bool((sigma <= 0).any()):
        raise ValueError(
            f"sigma must be > 0, got min {float(sigma.min())!r} "
            "(at sigma = 0 the denoiser is the identity: D(x; 0) = x)"
        )
    total = sigma**2 + sigma_data**2
    c_skip = sigma_data**2 / total
    c_out = sigma * sigma_data / total.sqrt()
    c_in = 1.0 / total.sqrt()
    c_noise = 0.25 * torch.log(sigma)
    return c_skip, c_out, c_in, c_noise


class EDMDenoiser(nn.Module):
    r"""$D_\theta(\tilde x; \sigma)$ around a network `net(x, c_noise[, y])`.

    `noise_scale` multiplies $c_\text{noise}$ before the call: 1 is EDM's choice; a
    network whose time embedding was built for inputs in $[0, 1000)$ (ADM's) can take
    1000.
    """

    def __init__(self, net: nn.Module, sigma_data: float = 0.5, noise_scale=1.0):
        super().__init__()
        if not sigma_data > 0:
            raise ValueError(f"sigma_data must be > 0, got {sigma_data!r}")
        self.net, self.sigma_data, self.noise_scale = net, sigma_data, noise_scale

    def forward(self, x: torch.Tensor, sigma: torch.Tensor, y=None) -> torch.Tensor:
        sigma = torch.as_tensor(sigma, dtype=torch.float64).reshape(-1)
        sigma = sigma.expand(x.shape[0]).cpu()  # (B,)
        c_skip, c_out, c_in, c_noise = edm_preconditioning(sigma, self.sigma_data)
        c_noise = (self.noise_scale * c_noise).to(x.device, x.dtype)  # (B,)
        x_in = _shape(c_in, x) * x
        f = self.net(x_in, c_noise) if y is None else self.net(x_in, c_noise, y)
        return _shape(c_skip, x) * x + _shape(c_out, x) * f


# --8<-- [end:preconditioning]


# --8<-- [start:edm_loss]
def sample_sigma_lognormal(
    n: int, generator: torch.Generator, p_mean: float = -1.2, p_std: float = 1.2
) -> torch.Tensor:
    r"""`n` training noise levels, $\ln\sigma \sim \mathcal N(P_\text{mean},
    P_\text{std}^2)$."""
    if not p_std > 0:
        raise ValueError(f"p_std must be > 0, got {p_std!r}")
    return torch.exp(p_mean + p_std * torch.randn(n, generator=generator).double())


def make_edm_batch_fn(images: torch.Tensor, p_mean=-1.2, p_std=1.2, labels=None):
    """`batch(generator, n) -> dict(x0, sigma, eps[, y])`, all drawn on the CPU."""

    def batch(generator: torch.Generator, n: int) -> dict:
        idx = torch.randint(0, len(images), (n,), generator=generator)
        x0 = images[idx]
        out = {"x0": x0, "sigma": sample_sigma_lognormal(n, generator, p_mean, p_std)}
        out["eps"] = torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
        if labels is not None:
            out["y"] = labels[idx]
        return out

    return batch


def edm_loss(
    denoiser: EDMDenoiser, batch: dict, reduction: str = "mean"
) -> torch.Tensor:
    r"""$\frac1B\sum_i \lambda(\sigma_i)\,\|D_\theta(x_{0,i} + \sigma_i n_i;
    \sigma_i) - x_{0,i}\|^2 / D$ with $\lambda(\sigma) = 1/c_\text{out}(\sigma)^2$."""
    if reduction not in ("mean", "none"):
        raise ValueError(
            f"reduction must be one of ('mean', 'none'), got {reduction!r}"
        )
    x0, sigma = batch["x0"], batch["sigma"].to(torch.float64)
    x_noisy = x0 + _shape(sigma, x0) * batch["eps"]  # (B, C, H, W)
    net = getattr(denoiser, "module", denoiser)  # through DistributedDataParallel
    d = denoiser(x_noisy, sigma, batch.get("y"))
    _, c_out, _, _ = edm_preconditioning(sigma.cpu(), net.sigma_data)
    per_sample = ((d - x0) ** 2).flatten(1).mean(1) / c_out.to(d) ** 2  # (B,)
    return per_sample.mean() if reduction == "mean" else per_sample


# --8<-- [end:edm_loss]


# --8<-- [start:edm_noise_fn]
def edm_noise_fn(denoiser: nn.Module, noise_schedule):
    r"""The noise prediction $\hat\varepsilon(x_t, t)$ of an EDM denoiser on a VP
    schedule: with $\tilde x = x_t/\alpha_t$ and $\sigma = \sigma_t/\alpha_t$,

    $$\hat\varepsilon = \frac{\tilde x - D_\theta(\tilde x; \sigma)}{\sigma}.$$

    The result works with every sampler (and carries `with_marginals`, so the sampler
    core never re-evaluates the schedule).
    """

    def with_marginals(x, t, alpha_t: float, sigma_t: float):
        sigma = sigma_t / alpha_t
        x_ve = x / alpha_t
        d = denoiser(x_ve, torch.full((x.shape[0],), sigma, dtype=torch.float64))
        return (x_ve - d) / sigma

    def model_fn(x, t):
        m = noise_schedule.marginals(t)
        if not (m.alpha == m.alpha[0]).all():
            raise ValueError("edm_noise_fn needs one time per call, got several")
        return with_marginals(x, t, float(m.alpha[0]), float(m.sigma[0]))

    model_fn.with_marginals = with_marginals
    return model_fn


# --8<-- [end:edm_noise_fn]


def train_edm(
    denoiser: EDMDenoiser,
    images: torch.Tensor,
    p_mean: float = -1.2,
    p_std: float = 1.2,
    config: TrainConfig | None = None,
    checkpoint_dir: str | Path | None = None,
    device=None,
) -> TrainResult:
    """Train an `EDMDenoiser` with `edm_loss` on log-normal noise levels."""
    return fit(
        denoiser,
        edm_loss,
        make_edm_batch_fn(images, p_mean, p_std),
        config or TrainConfig(),
        checkpoint_dir,
        device,
    )


def sigma_data_of(images: torch.Tensor) -> float:
    r"""$\sigma_\text{data}$: the standard deviation of the training data (all
    entries)."""
    return float(torch.as_tensor(images, dtype=torch.float64).std())


__all__ = [
    "EDMDenoiser",
    "edm_loss",
    "edm_noise_fn",
    "edm_preconditioning",
    "make_edm_batch_fn",
    "sample_sigma_lognormal",
    "sigma_data_of",
    "train_edm",
]
