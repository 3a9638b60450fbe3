r"""The training loop behind `difflearn.train`: AdamW, EMA, checkpoints, `torchrun`.

`fit` runs any `loss_fn(model, batch)` on batches drawn by `make_batch(generator, n)`.
It keeps an exponential moving average (EMA) of the weights,

$$\bar\theta_k = \mu\,\bar\theta_{k-1} + (1 - \mu)\,\theta_k ,$$

the weights one samples with (Ho et al., 2020, Appendix B; Song & Ermon, 2020).
Checkpoints (a folder per run, resumed exactly) are written by
`difflearn.training.checkpoints`. Under `torchrun` (`WORLD_SIZE > 1`) the
model is wrapped in `DistributedDataParallel` (NCCL on GPUs, gloo on CPUs) and
only rank 0 writes checkpoints and shows the progress bar.
"""

from __future__ import annotations

import copy
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from .checkpoints import load_training_state, save_training_state


@dataclass
class TrainConfig:
    """Hyper-parameters of a training run (all plain values; saved with every
    checkpoint).

    `batch_size` is per process: with `torchrun --nproc_per_node W` the global
    batch is `W * batch_size`.
    """

    steps: int = 2000
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0
    warmup: int = 100
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    seed: int = 0
    checkpoint_every: int = 500
    log_every: int = 50
    progress: bool = True


# --8<-- [start:ema_update]
@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, decay: float) -> None:
    r"""$\bar\theta \leftarrow \mu\bar\theta + (1 - \mu)\theta$ for every parameter
    (buffers are copied).
    """
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"decay must lie in [0, 1], got {decay!r}")
    for p_ema, p in zip(ema.parameters(), model.parameters()):
        p_ema.lerp_(p.detach(), 1.0 - decay)
    for b_ema, b in zip(ema.buffers(), model.buffers()):
        b_ema.copy_(b)


# --8<-- [end:ema_update]


def setup_distributed(device=None) -> tuple[int, int, torch.device]:
    """`(rank, world_size, device)`; joins the process group only when `WORLD_SIZE > 1`
    (or one exists).
    """
    cuda = torch.cuda.is_available()
    if dist.is_available() and (
        dist.is_initialized() or int(os.environ.get("WORLD_SIZE", "1")) > 1
    ):
        if not dist.is_initialized():
            dist.init_process_group("nccl" if cuda else "gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
        if device is None:
            device = (
                f"cuda:{int(os.environ.get('LOCAL_RANK', rank))}" if cuda else "cpu"
            )
        if torch.device(device).type == "cuda":
            torch.cuda.set_device(device)
        return rank, world, torch.device(device)
    return (
        0,
        1,
        torch.device(device if device is not None else ("cuda" if cuda else "cpu")),
    )


@dataclass
class TrainResult:
    """What `fit` returns: the trained model, its EMA copy and the per-step losses."""

    model: nn.Module
    ema: nn.Module
    losses: list = field(default_factory=list)
    step: int = 0
    wall_s: float = 0.0
    device: str = "cpu"
    world_size: int = 1

    def final_loss(self, last: int = 100) -> float:
        """Mean loss over the last `last` steps."""
        tail = self.losses[-last:]
        return sum(tail) / max(len(tail), 1)


# --8<-- [start:fit]
def fit(
    model: nn.Module, loss_fn, make_batch, config, checkpoint_dir=None, device=None
) -> TrainResult:
    """Minimise `loss_fn(model, batch)` for `config.steps` AdamW steps, resuming from
    `checkpoint_dir`.
    """
    rank, world, device = setup_distributed(device)
    torch.manual_seed(config.seed)
    model = model.to(device).train()
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    opt = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    generator = torch.Generator().manual_seed(
        config.seed
    )  # draws every global batch, on every rank
    step, losses, wall_before = 0, [], 0.0
    if checkpoint_dir is not None and (Path(checkpoint_dir) / "state.json").is_file():
        step, losses, wall_before = load_training_state(
            checkpoint_dir, model, ema, opt, generator, config
        )
    net = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(
            model, device_ids=[device] if device.type == "cuda" else None
        )
    bar = None
    if config.progress and rank == 0:
        from tqdm.auto import tqdm

        bar = tqdm(total=config.steps, initial=step, desc="training")
    start, pending = time.perf_counter(), []
    B = config.batch_size

    def flush():
        if pending:
            losses.extend(
                torch.stack(pending).tolist()
            )  # one host sync per log interval
            pending.clear()

    while step < config.steps:
        for group in opt.param_groups:  # linear warm-up, then constant
            group["lr"] = config.lr * min(1.0, (step + 1) / max(config.warmup, 1))
        batch = make_batch(
            generator, B * world
        )  # the global batch; this rank takes its slice
        batch = {
            k: v[rank * B : (rank + 1) * B].to(device, non_blocking=True)
            for k, v in batch.items()
        }
        loss = loss_fn(net, batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip:
            nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        opt.step()
        ema_update(ema, model, config.ema_decay)
        step += 1
        loss = loss.detach()
        if world > 1:
            dist.all_reduce(loss)
            loss = loss / world
        pending.append(loss.float())
        if step % config.log_every == 0 or step == config.steps:
            flush()
            if bar is not None:
                recent = losses[-config.log_every :]
                bar.set_postfix(loss=f"{sum(recent) / len(recent):.4f}")
        if bar is not None:
            bar.update(1)
        if checkpoint_dir is not None and (
            step == config.steps
            or (config.checkpoint_every and step % config.checkpoint_every == 0)
        ):
            flush()
            if rank == 0:
                wall = wall_before + time.perf_counter() - start
                save_training_state(
                    checkpoint_dir,
                    model,
                    ema,
                    opt,
                    generator,
                    step,
                    losses,
                    config,
                    wall,
                )
            if world > 1:
                dist.barrier()
    flush()
    if bar is not None:
        bar.close()
    wall = wall_before + time.perf_counter() - start
    return TrainResult(model, ema, losses, step, wall, str(device), world)


# --8<-- [end:fit]


__all__ = ["TrainConfig", "TrainResult", "ema_update", "fit", "setup_distributed"]
