r"""Resumable training checkpoints: safetensors weights, a weights-only trainer
state, JSON.

A checkpoint is a folder: `model.safetensors` and `ema.safetensors` (weights),
`trainer.pt` (optimizer moments and generator states: tensors and numbers only,
read back with `torch.load(weights_only=True)`, so no code is ever unpickled) and
`state.json` (step, losses, configuration).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

RESUME_KEYS = ("seed", "batch_size")  # changing these would break an exact resume


# --8<-- [start:checkpoint]
def save_training_state(
    path,
    model: nn.Module,
    ema: nn.Module,
    opt,
    generator: torch.Generator,
    step: int,
    losses: list,
    config,
    wall_s: float = 0.0,
) -> None:
    """Write a resumable checkpoint folder
    (safetensors weights + weights-only state + JSON).
    """
    from safetensors.torch import save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    for name, module in (("model", model), ("ema", ema)):
        tensors = {
            k: v.detach().to("cpu").contiguous() for k, v in module.state_dict().items()
        }
        save_file(tensors, str(path / f"{name}.safetensors.tmp"))
        os.replace(path / f"{name}.safetensors.tmp", path / f"{name}.safetensors")
    trainer = {
        "optimizer": opt.state_dict(),
        "generator": generator.get_state(),
        "torch_rng": torch.get_rng_state(),
    }
    torch.save(trainer, path / "trainer.pt.tmp")
    os.replace(path / "trainer.pt.tmp", path / "trainer.pt")
    state = {"step": step, "losses": losses, "config": asdict(config), "wall_s": wall_s}
    (path / "state.json.tmp").write_text(json.dumps(state))
    os.replace(path / "state.json.tmp", path / "state.json")


def load_training_state(
    path, model: nn.Module, ema: nn.Module, opt, generator: torch.Generator, config
):
    """Restore a folder written by `save_training_state`; returns
    `(step, losses, wall_s)`.
    """
    from safetensors.torch import load_file

    path = Path(path)
    state = json.loads((path / "state.json").read_text())
    for key in RESUME_KEYS:
        if state["config"][key] != getattr(config, key):
            raise ValueError(
                f"config.{key} must equal the checkpoint's {state['config'][key]!r} "
                f"to resume from {path}, got {getattr(config, key)!r}"
            )
    device = next(model.parameters()).device
    model.load_state_dict(
        load_file(str(path / "model.safetensors"), device=str(device))
    )
    ema.load_state_dict(load_file(str(path / "ema.safetensors"), device=str(device)))
    trainer = torch.load(path / "trainer.pt", map_location="cpu", weights_only=True)
    opt.load_state_dict(trainer["optimizer"])
    generator.set_state(trainer["generator"])
    torch.set_rng_state(trainer["torch_rng"])
    return state["step"], state["losses"], state["wall_s"]


# --8<-- [end:checkpoint]


__all__ = ["RESUME_KEYS", "load_training_state", "save_training_state"]
