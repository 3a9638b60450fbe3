r"""Resumable training checkpoints, written atomically and verified when read back.

A checkpoint folder holds complete checkpoints only. Each one is a directory
`step-00000500/` with `model.safetensors` and `ema.safetensors` (weights), `trainer.pt`
(optimizer moments and generator states: tensors and numbers only, read back with
`torch.load(weights_only=True)`, so no code is ever unpickled), `state.json` (step,
losses, configuration) and `manifest.json` (the step and the size and SHA-256 of every
file). It is written under a temporary name, every file fsynced, then renamed into
place; only then does the one-line file `LATEST` switch to it (`os.replace`, atomic),
and older steps are removed. An interruption at any moment leaves the previous
checkpoint or the new one, never a mix: resuming reads `LATEST`, checks the manifest and
that step, optimizer and EMA agree, and refuses anything else with a message saying
what is wrong.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

RESUME_KEYS = ("seed", "batch_size")  # changing these would break an exact resume
FILES = ("model.safetensors", "ema.safetensors", "trainer.pt", "state.json")


class CheckpointError(ValueError):
    """A checkpoint folder that cannot be resumed from (partial, corrupt or
    inconsistent)."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file, fsync, `os.replace`."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


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
) -> Path:
    """Write checkpoint `step` into the folder `path`, atomically; return its
    directory.

    The directory is complete (fsynced, with its manifest) before `LATEST` points to it.
    """
    from safetensors.torch import save_file

    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    name = f"step-{step:08d}"
    tmp = root / f".{name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for part, module in (("model", model), ("ema", ema)):
        tensors = {
            k: v.detach().to("cpu").contiguous() for k, v in module.state_dict().items()
        }
        save_file(tensors, str(tmp / f"{part}.safetensors"))
    trainer = {
        "optimizer": opt.state_dict(),
        "generator": generator.get_state(),
        "torch_rng": torch.get_rng_state(),
        "step": step,
    }
    torch.save(trainer, tmp / "trainer.pt")
    state = {"step": step, "losses": losses, "config": asdict(config), "wall_s": wall_s}
    (tmp / "state.json").write_text(json.dumps(state))
    files = {f: {"bytes": (tmp / f).stat().st_size, "sha256": _sha256(tmp / f)}
             for f in FILES}  # fmt: skip
    (tmp / "manifest.json").write_text(json.dumps({"step": step, "files": files}))
    for f in (*FILES, "manifest.json"):
        _fsync(tmp / f)
    final = root / name
    if final.exists():  # the same step saved twice (a resume that saves at once)
        shutil.rmtree(final)
    os.replace(tmp, final)  # a directory renamed into place: atomic
    write_atomic(root / "LATEST", name.encode())  # the switch: atomic
    for old in root.glob("step-*"):  # only now may older checkpoints go
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    for stale in root.glob(".step-*.tmp-*"):  # left by a process killed outright
        shutil.rmtree(stale, ignore_errors=True)
    return final


# --8<-- [end:checkpoint]


def find_checkpoint(path) -> Path | None:
    """The directory of the latest complete checkpoint in folder `path`, or `None` if
    the folder holds none; `CheckpointError` if it holds a partial one.
    """
    root = Path(path)
    if not root.is_dir():
        return None
    latest = root / "LATEST"
    if latest.is_file():
        name = latest.read_text().strip()
        if not (name.startswith("step-") and (root / name).is_dir()):
            raise CheckpointError(
                f"{latest} names {name!r}, which is not a checkpoint directory in "
                f"{root}: the folder was changed by hand; remove it to start afresh"
            )
        return root / name
    if (root / "state.json").is_file():  # the single-folder layout of difflearn 0.2
        return root
    partial = sorted(p.name for p in root.iterdir() if p.name != ".DS_Store")
    if partial:
        raise CheckpointError(
            f"{root} holds no complete checkpoint (no LATEST file) but has "
            f"{partial[:6]}: a save was interrupted before its first checkpoint was "
            "complete; remove the folder to start afresh"
        )
    return None


def verify_checkpoint(directory) -> dict:
    """Check a checkpoint directory against its manifest; return its `state.json`."""
    d = Path(directory)
    manifest_path = d / "manifest.json"
    present = [f for f in FILES if (d / f).is_file()]
    if len(present) < len(FILES):
        missing = sorted(set(FILES) - set(present))
        raise CheckpointError(f"partial checkpoint {d}: missing {missing}")
    if manifest_path.is_file():
        try:
            manifest = json.loads(manifest_path.read_text())
        except json.JSONDecodeError as err:
            raise CheckpointError(f"corrupt manifest {manifest_path}: {err}") from err
        for f, want in manifest["files"].items():
            size = (d / f).stat().st_size
            if size != want["bytes"]:
                raise CheckpointError(
                    f"{d / f} has {size} bytes, the manifest {want['bytes']}: the "
                    "checkpoint is truncated or corrupt"
                )
            if _sha256(d / f) != want["sha256"]:
                raise CheckpointError(
                    f"{d / f} does not match the manifest (SHA-256): it was changed "
                    "or copied from another save after this checkpoint was written"
                )
    try:
        state = json.loads((d / "state.json").read_text())
    except json.JSONDecodeError as err:
        raise CheckpointError(f"corrupt {d / 'state.json'}: {err}") from err
    if manifest_path.is_file() and manifest["step"] != state["step"]:
        raise CheckpointError(
            f"{d}: manifest step {manifest['step']} != state.json step {state['step']}"
        )
    if len(state["losses"]) != state["step"]:
        raise CheckpointError(
            f"{d}: {len(state['losses'])} losses for step {state['step']}: inconsistent"
        )
    return state


def _optimizer_steps(opt_state: dict) -> set[int]:
    """The step counters of an optimizer state dict (Adam's per-parameter `step`)."""
    return {int(s["step"]) for s in opt_state.get("state", {}).values() if "step" in s}


def load_training_state(
    path, model: nn.Module, ema: nn.Module, opt, generator: torch.Generator, config
):
    """Restore the latest checkpoint of folder `path` into `model`, `ema`, `opt` and
    `generator`, after checking that it is complete and consistent; returns
    `(step, losses, wall_s)`.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    d = find_checkpoint(path)
    if d is None:
        raise CheckpointError(f"no checkpoint in {path}")
    state = verify_checkpoint(d)
    for key in RESUME_KEYS:
        if state["config"][key] != getattr(config, key):
            raise ValueError(
                f"config.{key} must equal the checkpoint's {state['config'][key]!r} "
                f"to resume from {d}, got {getattr(config, key)!r}"
            )
    try:
        trainer = torch.load(d / "trainer.pt", map_location="cpu", weights_only=True)
        device = next(model.parameters()).device
        weights = {p: load_file(str(d / f"{p}.safetensors"), device=str(device))
                   for p in ("model", "ema")}  # fmt: skip
    except (OSError, EOFError, RuntimeError, SafetensorError) as err:
        raise CheckpointError(f"cannot read checkpoint {d}: {err}") from err
    steps = _optimizer_steps(trainer["optimizer"])
    # every parameter that got a gradient at every step has Adam's count = the step
    if trainer.get("step", state["step"]) != state["step"] or (
        steps and max(steps) != state["step"]
    ):
        raise CheckpointError(
            f"{d}: optimizer state is at step(s) {sorted(steps)}, state.json at step "
            f"{state['step']}: the files come from different saves"
        )
    if set(weights["model"]) != set(weights["ema"]):
        raise CheckpointError(
            f"{d}: the EMA weights and the model weights differ in keys"
        )
    model.load_state_dict(weights["model"])
    ema.load_state_dict(weights["ema"])
    opt.load_state_dict(trainer["optimizer"])
    generator.set_state(trainer["generator"])
    torch.set_rng_state(trainer["torch_rng"])
    return state["step"], state["losses"], state["wall_s"]


__all__ = [
    "CheckpointError",
    "RESUME_KEYS",
    "find_checkpoint",
    "load_training_state",
    "save_training_state",
    "verify_checkpoint",
    "write_atomic",
]
