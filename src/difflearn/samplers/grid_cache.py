r"""Optimised grids that ship with the package, tied to the weights they were computed
for.

`python -m tools.optimise_grids` runs `optimise_grid` for a shipped model and writes
`difflearn/weights/grids/<model>.json`: the SHA-256 of the model's `.safetensors` file
and, per entry, the sampler, its keyword arguments, the NFE, the grid and how it was
computed (calibration noises, errors, CPU time, machine). `load_grid` returns a grid
and warns when the weights it is used with are not the ones it was optimised for: a
grid fitted to one network is a guess for another.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import torch

WEIGHTS = Path(__file__).resolve().parents[1] / "weights"
GRIDS = WEIGHTS / "grids"


class GridMismatchWarning(UserWarning):
    """A cached grid is used with weights other than those it was optimised for."""


def model_sha256(path) -> str:
    """The SHA-256 of a file (hex), read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _record(model: str, grids_dir) -> dict:
    path = Path(grids_dir or GRIDS) / f"{model}.json"
    if not path.is_file():
        have = sorted(p.stem for p in Path(grids_dir or GRIDS).glob("*.json"))
        raise ValueError(
            f"model must be one of {tuple(have)} (models with cached "
            f"grids), got {model!r}"
        )
    return json.loads(path.read_text())


def list_grids(model: str, grids_dir=None) -> list[dict]:
    """The cached entries of `model`: method, sampler_kwargs, nfe, steps (no grids)."""
    keys = ("method", "sampler_kwargs", "nfe", "steps")
    return [{k: e[k] for k in keys} for e in _record(model, grids_dir)["grids"]]


# --8<-- [start:load_grid]
def load_grid(
    model: str, method: str, nfe: int, weights=None, grids_dir=None, **sampler_kwargs
) -> torch.Tensor:
    """The cached optimised grid of `model` for `method` with `sampler_kwargs` at `nfe`
    model calls: (steps + 1,) float64 decreasing times, for `sample(...,
    timesteps=grid)`.

    `weights` is the `.safetensors` file the grid will be used with (default: the
    shipped one); if its SHA-256 is not the one the grid was optimised for, a
    `GridMismatchWarning` says so.
    """
    rec = _record(model, grids_dir)
    for e in rec["grids"]:
        if (e["method"], e["nfe"], e["sampler_kwargs"]) == (
            method,
            nfe,
            sampler_kwargs,
        ):
            break
    else:
        have = [(e["method"], e["sampler_kwargs"], e["nfe"]) for e in rec["grids"]]
        raise ValueError(
            f"no cached grid for method={method!r}, sampler_kwargs={sampler_kwargs!r}, "
            f"nfe={nfe!r} of {model!r}; cached (method, kwargs, nfe): {have}"
        )
    path = Path(weights) if weights is not None else WEIGHTS / f"{model}.safetensors"
    sha = model_sha256(path)
    if sha != rec["model_sha256"]:
        warnings.warn(
            f"the cached {method} grid of {model!r} was optimised for weights with "
            f"sha256 {rec['model_sha256'][:12]}..., but {path.name} has sha256 "
            f"{sha[:12]}...: it may be far from optimal for these weights; run "
            "difflearn.samplers.optimise_grid for them",
            GridMismatchWarning,
            stacklevel=2,
        )
    return torch.tensor(e["timesteps"], dtype=torch.float64)


# --8<-- [end:load_grid]


def save_grids(model: str, entries: list[dict], grids_dir=None, **provenance) -> Path:
    """Write `<grids_dir>/<model>.json` atomically (a temporary file, then
    `os.replace`).

    `entries` are dicts with `method`, `sampler_kwargs`, `nfe`, `steps`, `timesteps`
    and whatever else records how they were computed; the model's SHA-256 is taken
    from its shipped weights.
    """
    out = Path(grids_dir or GRIDS)
    out.mkdir(parents=True, exist_ok=True)
    rec = {
        "model": model,
        "model_sha256": model_sha256(WEIGHTS / f"{model}.safetensors"),
        **provenance,
        "grids": entries,
    }
    fd, tmp = tempfile.mkstemp(dir=out, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(rec, indent=1) + "\n")
    os.chmod(tmp, 0o644)  # mkstemp makes it private; package data is world-readable
    os.replace(tmp, out / f"{model}.json")
    return out / f"{model}.json"
