r"""Train a noise-prediction model (or a noisy classifier) on any `NoiseScheduleVP`.

The objective is the "simple" loss of Ho et al. (2020, Eq. 14): draw a time
$t$, noise $\varepsilon \sim \mathcal N(0, I)$, form
$x_t = \alpha_t x_0 + \sigma_t \varepsilon$ and regress the noise,

$$L(\theta) = \mathbb E_{t, x_0, \varepsilon}\,
\big\|\hat\varepsilon_\theta(x_t, t) - \varepsilon\big\|^2 .$$

For a discrete schedule $t = (n + 1)/N$ with $n$ uniform on $\{0, \dots, N-1\}$;
for a continuous one $t$ is uniform on $[10^{-3}, T]$. The model is called with
the same time label `model_wrapper` will give it at sampling time
(`model_input_time`), so a trained model plugs straight into the samplers.
With class labels, a fraction `label_dropout` of them is replaced by a
"null" class, which trains the unconditional model of classifier-free
guidance inside the conditional one (Ho & Salimans, 2022). The noisy
classifier of classifier guidance (Dhariwal & Nichol, 2021, Sec. 4) is
trained with cross-entropy on the same $x_t$.

All randomness (batch indices, $t$, $\varepsilon$, dropped labels) comes from one
CPU `torch.Generator` that draws the *global* batch; with `torchrun` each of the
$W$ processes takes its slice, so $W$ processes with batch $B$ follow the
same trajectory as one process with batch $WB$, and resuming a checkpoint
continues it exactly. The loop itself lives in `difflearn.training.loop`.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..model_wrapper import model_input_time
from ..schedules import NoiseScheduleVP
from ..validate import check_tensor
from .loop import TrainConfig, TrainResult, fit


# --8<-- [start:sample_t]
def sample_t(
    noise_schedule, n: int, generator: torch.Generator, eps: float = 1e-3
) -> torch.Tensor:
    """`n` training times: $t = (k + 1)/N$ with $k$ uniform for a discrete schedule,
    else $U[\\epsilon, T]$.
    """
    if noise_schedule.schedule == "discrete":
        N = noise_schedule.total_N
        k = torch.randint(0, N, (n,), generator=generator)
        return (k + 1).to(torch.float64) / N
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    return eps + (noise_schedule.T - eps) * u


# --8<-- [end:sample_t]


# --8<-- [start:drop_labels]
def drop_labels(
    y: torch.Tensor, p: float, null_class: int, generator: torch.Generator
) -> torch.Tensor:
    r"""Replace each label by `null_class` with probability `p` (label dropout for
    classifier-free guidance).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"label_dropout must lie in [0, 1], got {p!r}")
    drop = torch.rand(y.shape, generator=generator) < p
    return torch.where(drop, torch.full_like(y, null_class), y)


# --8<-- [end:drop_labels]


def make_batch_fn(
    images: torch.Tensor,
    noise_schedule,
    labels: torch.Tensor | None = None,
    label_dropout: float = 0.0,
    null_class: int | None = None,
    sample_times=None,
):
    """`batch(generator, n) -> dict(x0, t, eps, alpha, sigma[, y])`: one global batch,
    all drawn on the CPU.

    `sample_times(generator, n)` draws the times (default: `sample_t` of the schedule).
    """
    check_tensor(
        "images", images, min_dim=2
    )  # finite: NaN data would train NaN weights
    if labels is not None and len(labels) != len(images):
        raise ValueError(
            f"labels must have {len(images)} entries (one per image), got {len(labels)}"
        )
    if label_dropout > 0 and (labels is None or null_class is None):
        raise ValueError(
            f"label_dropout={label_dropout!r} needs labels and a null_class, got "
            f"labels={'given' if labels is not None else None}, "
            f"null_class={null_class!r}"
        )

    if sample_times is None:

        def sample_times(generator, n):
            return sample_t(noise_schedule, n, generator)

    def batch(generator: torch.Generator, n: int) -> dict:
        idx = torch.randint(0, len(images), (n,), generator=generator)
        out = {"x0": images[idx], "t": sample_times(generator, n)}
        out["eps"] = torch.randn(
            out["x0"].shape, generator=generator, dtype=out["x0"].dtype
        )
        # alpha_t, sigma_t once, in float64 on the CPU
        m = noise_schedule.marginals(out["t"])
        out["alpha"], out["sigma"] = (
            torch.from_numpy(m.alpha),
            torch.from_numpy(m.sigma),
        )
        if labels is not None:
            y = labels[idx]
            out["y"] = (
                drop_labels(y, label_dropout, null_class, generator)
                if label_dropout > 0
                else y
            )
        return out

    return batch


# --8<-- [start:diffusion_loss]
def noised(
    noise_schedule,
    x0: torch.Tensor,
    t: torch.Tensor,
    eps: torch.Tensor,
    alpha_sigma: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    r"""$x_t = \alpha_t x_0 + \sigma_t \varepsilon$, with $\alpha_t, \sigma_t$ from
    `noise_schedule.marginals(t)`.

    `alpha_sigma`, two `(B,)` float64 tensors, skips the schedule when the batch already
    carries them (as the batches of `make_batch_fn` do).
    """
    if alpha_sigma is None:
        m = noise_schedule.marginals(t)
        alpha_sigma = torch.from_numpy(m.alpha), torch.from_numpy(m.sigma)
    shape = (-1,) + (1,) * (x0.dim() - 1)
    alpha_t, sigma_t = (v.reshape(shape).to(x0) for v in alpha_sigma)
    return alpha_t * x0 + sigma_t * eps


def noised_batch(noise_schedule, batch: dict) -> torch.Tensor:
    """`noised` for a batch of `make_batch_fn` (which carries alpha and sigma)."""
    pair = (batch["alpha"], batch["sigma"]) if "alpha" in batch else None
    return noised(noise_schedule, batch["x0"], batch["t"], batch["eps"], pair)


def diffusion_loss(model: nn.Module, noise_schedule, batch: dict) -> torch.Tensor:
    r"""The loss (a mean over pixels):

    $$\frac{1}{B}\sum_i \|\hat\varepsilon_\theta(x_{t_i}, t_i[, y_i])
    - \varepsilon_i\|^2 / D.$$
    """
    x_t = noised_batch(noise_schedule, batch)  # (B, C, H, W)
    t_in = model_input_time(noise_schedule, batch["t"].to(torch.float64)).to(x_t.dtype)
    eps_pred = model(x_t, t_in) if "y" not in batch else model(x_t, t_in, batch["y"])
    return F.mse_loss(eps_pred, batch["eps"])


# --8<-- [end:diffusion_loss]


# --8<-- [start:classifier_loss]
def classifier_loss(classifier: nn.Module, noise_schedule, batch: dict) -> torch.Tensor:
    r"""Cross-entropy $-\log p_\phi(y \mid x_t, t)$ of the noisy classifier, averaged
    over the batch.
    """
    x_t = noised_batch(noise_schedule, batch)
    t_in = model_input_time(noise_schedule, batch["t"].to(torch.float64)).to(x_t.dtype)
    return F.cross_entropy(classifier(x_t, t_in), batch["y"])


# --8<-- [end:classifier_loss]


def train_diffusion(
    model: nn.Module,
    images: torch.Tensor,
    noise_schedule: NoiseScheduleVP,
    labels: torch.Tensor | None = None,
    label_dropout: float = 0.0,
    null_class: int | None = None,
    config: TrainConfig | None = None,
    checkpoint_dir: str | Path | None = None,
    device: str | torch.device | None = None,
) -> TrainResult:
    """Train `model` to predict the noise; returns a `TrainResult` (model, EMA model,
    losses, wall time).

    Args:
        model: called as `model(x_t, t_input)` or, with labels,
            `model(x_t, t_input, y)`.
        images: `(n, C, H, W)` training data in $[-1, 1]$.
        noise_schedule: a `NoiseScheduleVP`.
        labels: `(n,)` class labels for a class-conditional model.
        label_dropout: probability of replacing a label by `null_class`.
        null_class: the label of "no class" (for digits: 10, an eleventh embedding row).
        config: a `TrainConfig`.
        checkpoint_dir: where to save (and resume from) checkpoints; `None` for none.
        device: where to train (default: CUDA if available; under `torchrun`, this
            process's GPU).
    """
    batch = make_batch_fn(images, noise_schedule, labels, label_dropout, null_class)
    return fit(
        model,
        lambda m, b: diffusion_loss(m, noise_schedule, b),
        batch,
        config or TrainConfig(),
        checkpoint_dir,
        device,
    )


def train_classifier(
    classifier: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    noise_schedule: NoiseScheduleVP,
    config: TrainConfig | None = None,
    checkpoint_dir: str | Path | None = None,
    device: str | torch.device | None = None,
) -> TrainResult:
    """Train a noisy classifier $p_\\phi(y \\mid x_t, t)$ with cross-entropy at
    random $t$.
    """
    batch = make_batch_fn(images, noise_schedule, labels)
    return fit(
        classifier,
        lambda m, b: classifier_loss(m, noise_schedule, b),
        batch,
        config or TrainConfig(),
        checkpoint_dir,
        device,
    )


__all__ = [
    "classifier_loss",
    "diffusion_loss",
    "drop_labels",
    "make_batch_fn",
    "noised_batch",
    "noised",
    "sample_t",
    "train_classifier",
    "train_diffusion",
]
