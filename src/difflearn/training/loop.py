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
import math
import os
import signal
import threading
import time
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
from torch import nn

from ..validate import check_int, check_number
from .checkpoints import find_checkpoint, load_training_state, save_training_state


@dataclass
class TrainConfig:
    """Hyper-parameters of a training run (all plain values; saved with every
    checkpoint).

    `batch_size` is per process: with `torchrun --nproc_per_node W` the global
    batch is `W * batch_size`. `grad_clip` `None` or 0 turns clipping off;
    `checkpoint_every` 0 saves only at the end (and on Ctrl-C). Every value is checked
    when the config is made.
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

    def __post_init__(self):
        self.steps = check_int("steps", self.steps, lo=0)
        self.batch_size = check_int("batch_size", self.batch_size, lo=1)
        self.lr = check_number("lr", self.lr, 0.0, lo_open=True)
        self.weight_decay = check_number("weight_decay", self.weight_decay, 0.0)
        self.warmup = check_int("warmup", self.warmup, lo=0)
        if self.grad_clip is not None:
            self.grad_clip = check_number("grad_clip", self.grad_clip, 0.0)
        self.ema_decay = check_number("ema_decay", self.ema_decay, 0.0, 1.0)
        self.seed = check_int("seed", self.seed, lo=0)
        self.checkpoint_every = check_int(
            "checkpoint_every", self.checkpoint_every, lo=0
        )
        self.log_every = check_int("log_every", self.log_every, lo=1)
        if not isinstance(self.progress, bool):
            raise TypeError(f"progress must be a bool, got {self.progress!r}")


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


class _sigint_deferred:
    """While active, Ctrl-C (SIGINT) only sets a flag, which the loop reads after each
    step: it saves a checkpoint, then raises `KeyboardInterrupt`. A Ctrl-C during a save
    therefore never leaves a partial checkpoint (the save is atomic anyway).
    """

    def __init__(self, active: bool):
        self.active = active and threading.current_thread() is threading.main_thread()
        self.flag = [False]

    def __enter__(self):
        if self.active:
            self.previous = signal.getsignal(signal.SIGINT)

            def handler(signum, frame):
                self.flag[0] = True

            signal.signal(signal.SIGINT, handler)
        return self.flag

    def __exit__(self, *exc):
        if self.active:
            signal.signal(signal.SIGINT, self.previous)
        return False


def _agree(flag: bool, world: int, device) -> bool:
    """`flag` on any rank (one all-reduce per step under torchrun; free otherwise)."""
    if world == 1:
        return flag
    t = torch.tensor([float(flag)], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


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
    if checkpoint_dir is not None and find_checkpoint(checkpoint_dir) is not None:
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
            new = torch.stack(pending).tolist()  # one host sync per log interval
            pending.clear()
            bad = [i for i, v in enumerate(new) if not math.isfinite(v)]
            if bad:
                raise FloatingPointError(
                    f"the training loss became {new[bad[0]]} at step "
                    f"{step - len(new) + bad[0] + 1}: check the data (finite, in "
                    f"range), lr={config.lr!r} and the model; no checkpoint is written "
                    "from this state"
                )
            losses.extend(new)

    def save():
        flush()
        if rank == 0:
            wall = wall_before + time.perf_counter() - start
            save_training_state(
                checkpoint_dir, model, ema, opt, generator, step, losses, config, wall
            )
        if world > 1:
            dist.barrier()

    try:
        with _sigint_deferred(checkpoint_dir is not None) as interrupted:
            while step < config.steps:
                for group in opt.param_groups:  # linear warm-up, then constant
                    group["lr"] = config.lr * min(
                        1.0, (step + 1) / max(config.warmup, 1)
                    )
                # the global batch; this rank takes its slice
                batch = make_batch(generator, B * world)
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
                stop = _agree(interrupted[0], world, device)
                if checkpoint_dir is not None and (
                    stop
                    or step == config.steps
                    or (config.checkpoint_every and step % config.checkpoint_every == 0)
                ):
                    save()  # a Ctrl-C during the save waits for it to finish
                if stop or interrupted[0]:
                    raise KeyboardInterrupt(
                        f"training interrupted at step {step}"
                        + (
                            f"; checkpoint saved in {checkpoint_dir}"
                            if checkpoint_dir
                            else ""
                        )
                    )
        flush()
    finally:
        if bar is not None:
            bar.close()
    wall = wall_before + time.perf_counter() - start
    return TrainResult(model, ema, losses, step, wall, str(device), world)


# --8<-- [end:fit]


__all__ = ["TrainConfig", "TrainResult", "ema_update", "fit", "setup_distributed"]
