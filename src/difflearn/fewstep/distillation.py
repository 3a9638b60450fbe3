r"""Progressive distillation (Salimans & Ho, 2022): a student learns to take in one
DDIM step what its teacher takes in two; the student becomes the next teacher, and
the number of steps halves every round.

Teacher and student share a time grid: the student's $N$ steps are every $K$-th point
of the teacher's $NK$-step grid ($K = 2$ in the paper). From $z_t$ at a student grid
time $t$, the teacher runs $K$ deterministic DDIM steps to the next student time $s$
and lands on $z_s$. One DDIM step of the student,
$z_s = \alpha_s\hat x_0 + \sigma_s (z_t - \alpha_t\hat x_0)/\sigma_t$, lands there
exactly when its $\hat x_0$ equals (Salimans & Ho, 2022, Algorithm 2)

$$\tilde x = \frac{z_s - (\sigma_s/\sigma_t)\, z_t}{\alpha_s - (\sigma_s/\sigma_t)\,
\alpha_t},$$

so the student regresses $\tilde x$, with the "truncated SNR" weight
$\max(\alpha_t^2/\sigma_t^2, 1)$ of the paper. A student that starts from a noise
prediction cannot take large steps near $t = T$, where
$\hat x_0 = (z_t - \sigma_t\hat\varepsilon)/\alpha_t$ divides by $\alpha_T \approx 0$;
the paper's students predict $v = \alpha_t\varepsilon - \sigma_t x_0$ instead, and so
do ours (`model_type="v"`), initialised from the teacher's weights.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..model_wrapper import model_wrapper
from ..schedules.grids import time_steps
from ..training.loop import TrainConfig, TrainResult, fit
from .common import check_steps, column, ddim_jump, make_index_batch_fn, x0_from_model


def distillation_grid(
    noise_schedule,
    steps: int,
    teacher_substeps: int = 2,
    skip_type: str = "time_uniform",
    t_end: float | None = None,
):
    r"""The teacher's grid of $NK + 1$ times (`Marginals`, float64); the student's grid
    is every $K$-th point, `grid.t[::K]`.
    """
    N, K = check_steps(steps), check_steps(teacher_substeps, "teacher_substeps")
    if t_end is None:  # the teacher's last training step (discrete) or 1e-3
        discrete = noise_schedule.schedule == "discrete"
        t_end = 1.0 / noise_schedule.total_N if discrete else 1e-3
    t = time_steps(
        noise_schedule, skip_type, noise_schedule.T, t_end, N * K, dtype=torch.float64
    )
    return noise_schedule.marginals(t)


def student_timesteps(noise_schedule, steps: int, **kwargs) -> torch.Tensor:
    """The `steps + 1` times a student of `steps` steps samples on (with `ddim`)."""
    return torch.from_numpy(distillation_grid(noise_schedule, steps, 1, **kwargs).t)


# --8<-- [start:pd_target]
def pd_target(z_t, z_s, alpha_t, sigma_t, alpha_s, sigma_s):
    r"""The $\tilde x$ whose DDIM step from $(z_t, t)$ lands on $z_s$ (per-sample
    coefficients `(B,)`)."""
    r = column(sigma_s / sigma_t, z_t)
    return (z_s - r * z_t) / (column(alpha_s, z_t) - r * column(alpha_t, z_t))


@torch.no_grad()
def teacher_ddim(teacher_fn, z, j, grid, substeps: int):
    r"""`substeps` DDIM steps of the teacher from grid point `j` `(B,)` to `j + K`."""
    a, s = torch.from_numpy(grid.alpha), torch.from_numpy(grid.sigma)
    t = torch.from_numpy(grid.t).to(z.dtype)
    for k in range(substeps):
        now, nxt = j + k, j + k + 1
        x0 = x0_from_model(teacher_fn, z, t[now], a[now], s[now])
        z = ddim_jump(z, x0, a[now], s[now], a[nxt], s[nxt])
    return z


# --8<-- [end:pd_target]


# --8<-- [start:pd_loss]
def progressive_distillation_loss(student_fn, teacher_fn, batch, grid, substeps):
    r"""$\mathbb E\,\max(\alpha_t^2/\sigma_t^2, 1)\,\|\hat x_0(z_t) - \tilde x\|^2 / D$
    at a uniformly drawn student step (Salimans & Ho, 2022, Algorithm 2)."""
    N = (len(grid.t) - 1) // substeps
    i = (batch["u"].cpu() * N).long().clamp(max=N - 1)  # (B,) the student's step
    j = i * substeps  # its start on the teacher's grid
    a, s = torch.from_numpy(grid.alpha), torch.from_numpy(grid.sigma)
    t = torch.from_numpy(grid.t)
    x0, eps = batch["x0"], batch["eps"]
    z_t = column(a[j], x0) * x0 + column(s[j], x0) * eps  # (B, C, H, W)
    z_s = teacher_ddim(teacher_fn, z_t, j, grid, substeps)
    target = pd_target(z_t, z_s, a[j], s[j], a[j + substeps], s[j + substeps])
    x0_pred = x0_from_model(student_fn, z_t, t[j].to(x0.dtype), a[j], s[j])
    weight = (a[j] ** 2 / s[j] ** 2).clamp(min=1.0).to(x0)  # truncated SNR
    return (weight * (x0_pred - target).pow(2).flatten(1).mean(1)).mean()


# --8<-- [end:pd_loss]


# --8<-- [start:pd_round]
def distill_round(
    student: nn.Module,
    teacher_fn,
    noise_schedule,
    images: torch.Tensor,
    steps: int,
    teacher_substeps: int = 2,
    model_type: str = "v",
    skip_type: str = "time_uniform",
    config: TrainConfig | None = None,
    checkpoint_dir: str | Path | None = None,
    device=None,
) -> TrainResult:
    r"""One round: train `student` (a network of type `model_type`) to sample in
    `steps` DDIM steps what `teacher_fn` (a `model_wrapper` noise prediction) samples
    in `steps * teacher_substeps`. Sample the result with
    `ddim(model_wrapper(student, ns, model_type), x, ns, student_timesteps(ns, steps))`.
    """
    grid = distillation_grid(noise_schedule, steps, teacher_substeps, skip_type)

    def loss(model, batch):
        student_fn = model_wrapper(model, noise_schedule, model_type=model_type)
        return progressive_distillation_loss(
            student_fn, teacher_fn, batch, grid, teacher_substeps
        )

    return fit(
        student,
        loss,
        make_index_batch_fn(images),
        config or TrainConfig(),
        checkpoint_dir,
        device,
    )


# --8<-- [end:pd_round]


__all__ = [
    "distill_round",
    "distillation_grid",
    "pd_target",
    "progressive_distillation_loss",
    "student_timesteps",
    "teacher_ddim",
]
