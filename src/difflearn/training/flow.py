r"""Flow matching on the straight path: the velocity target, time sampling and the loss.

With $x_t = (1 - t)\,x_0 + t\,\varepsilon$ (`difflearn.schedules.FlowSchedule`), the
conditional velocity is $\dot x_t = \varepsilon - x_0$, and regressing it,

$$L(\theta) = \mathbb E_{t, x_0, \varepsilon}\,
\big\|v_\theta(x_t, t) - (\varepsilon - x_0)\big\|^2 ,$$

makes $v_\theta$ the marginal velocity $\mathbb E[\varepsilon - x_0 \mid x_t]$, whose
ODE
$dx/dt = v$ carries noise to data (Liu et al., 2023; Lipman et al., 2023).

Where the loss looks matters as much as what it regresses. Stable Diffusion 3
(Esser et al., 2024) draws $t$ from a logit-normal density,
$t = \operatorname{sigmoid}(m + s z)$
with $z \sim \mathcal N(0, 1)$, which puts most training at middle noise levels, and for
larger images shifts every time by $t \mapsto \frac{a t}{1 + (a - 1) t}$ ($a > 1$ moves
training, and sampling, towards more noise).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..model_wrapper import model_input_time
from ..schedules.flow import FlowSchedule, shift_t
from .loop import TrainConfig, TrainResult, fit
from .objectives import make_batch_fn, noised_batch

T_SAMPLERS = ("uniform", "logit_normal")


# --8<-- [start:flow_time]
def sample_t_logit_normal(
    n: int, generator: torch.Generator, loc: float = 0.0, scale: float = 1.0
) -> torch.Tensor:
    r"""`n` times $t = \operatorname{sigmoid}(m + s z)$, $z \sim \mathcal N(0, 1)$."""
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale!r}")
    z = torch.randn(n, generator=generator, dtype=torch.float64)
    return torch.sigmoid(loc + scale * z)


# --8<-- [end:flow_time]


def sample_t_flow(
    n: int,
    generator: torch.Generator,
    t_sampler: str = "logit_normal",
    loc: float = 0.0,
    scale: float = 1.0,
    shift: float = 1.0,
) -> torch.Tensor:
    """`n` training times in (0, 1): uniform or logit-normal, then shifted."""
    if t_sampler not in T_SAMPLERS:
        raise ValueError(f"t_sampler must be one of {T_SAMPLERS}, got {t_sampler!r}")
    if t_sampler == "uniform":
        t = torch.rand(n, generator=generator, dtype=torch.float64)
    else:
        t = sample_t_logit_normal(n, generator, loc, scale)
    return shift_t(t, shift) if shift != 1.0 else t


def make_flow_batch_fn(
    images: torch.Tensor,
    labels: torch.Tensor | None = None,
    label_dropout: float = 0.0,
    null_class: int | None = None,
    t_sampler: str = "logit_normal",
    loc: float = 0.0,
    scale: float = 1.0,
    shift: float = 1.0,
):
    """`batch(generator, n) -> dict(x0, t, eps, alpha, sigma[, y])`, straight path."""

    def times(generator, n):
        return sample_t_flow(n, generator, t_sampler, loc, scale, shift)

    return make_batch_fn(
        images, FlowSchedule(), labels, label_dropout, null_class, sample_times=times
    )


# --8<-- [start:pairs_batch]
def make_pairs_batch_fn(
    noise: torch.Tensor,
    data: torch.Tensor,
    t_sampler: str = "logit_normal",
    loc: float = 0.0,
    scale: float = 1.0,
    shift: float = 1.0,
):
    r"""Batches of a fixed coupling for reflow (Liu et al., 2023): pair $k$ is
    (`noise[k]`, `data[k]`), e.g. the start and end of one ODE path of a flow, and
    $x_t = (1 - t)\,\text{data}_k + t\,\text{noise}_k$ runs along its straight line.

    `batch(generator, n) -> dict(x0, eps, t, alpha, sigma)`, ready for
    `flow_matching_loss`.
    """
    if noise.shape != data.shape:
        raise ValueError(
            "noise and data must have the same shape (one pair per row), got "
            f"{tuple(noise.shape)} and {tuple(data.shape)}"
        )

    def batch(generator: torch.Generator, n: int) -> dict:
        idx = torch.randint(0, len(data), (n,), generator=generator)
        t = sample_t_flow(n, generator, t_sampler, loc, scale, shift)
        return {"x0": data[idx], "eps": noise[idx], "t": t, "alpha": 1 - t, "sigma": t}

    return batch


# --8<-- [end:pairs_batch]


# --8<-- [start:flow_loss]
def flow_matching_loss(model: nn.Module, batch: dict) -> torch.Tensor:
    r"""The velocity loss (a mean over pixels):

    $$\frac1B\sum_i \|v_\theta(x_{t_i}, t_i[, y_i])
    - (\varepsilon_i - x_{0,i})\|^2 / D.$$
    """
    flow = FlowSchedule()
    x_t = noised_batch(flow, batch)  # (1 - t) x0 + t eps
    t_in = model_input_time(flow, batch["t"].to(torch.float64)).to(x_t.dtype)
    v_pred = model(x_t, t_in) if "y" not in batch else model(x_t, t_in, batch["y"])
    return F.mse_loss(v_pred, batch["eps"] - batch["x0"])


# --8<-- [end:flow_loss]


def train_flow(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor | None = None,
    label_dropout: float = 0.0,
    null_class: int | None = None,
    t_sampler: str = "logit_normal",
    loc: float = 0.0,
    scale: float = 1.0,
    shift: float = 1.0,
    config: TrainConfig | None = None,
    checkpoint_dir: str | Path | None = None,
    device=None,
) -> TrainResult:
    """Train `model` as a rectified-flow velocity $v_\\theta(x_t, 1000 t)$.

    Returns a `TrainResult`. Sample from it with `difflearn.samplers.flow_euler` /
    `flow_heun`, or with any sampler
    of the zoo through `model_wrapper(model, FlowSchedule(), model_type="flow")`.
    """
    batch = make_flow_batch_fn(
        images, labels, label_dropout, null_class, t_sampler, loc, scale, shift
    )
    return fit(
        model,
        flow_matching_loss,
        batch,
        config or TrainConfig(),
        checkpoint_dir,
        device,
    )


__all__ = [
    "T_SAMPLERS",
    "flow_matching_loss",
    "make_flow_batch_fn",
    "make_pairs_batch_fn",
    "sample_t_flow",
    "sample_t_logit_normal",
    "train_flow",
]
