"""Optimise the time grids of the shipped models and write them as package data.

    python -m tools.optimise_grids                          # every model of MODELS
    python -m tools.optimise_grids --only digits-uncond     # one model
    python -m tools.optimise_grids --quick --out /tmp/g     # a small run, for the tests

For each model: one reference solve from the calibration noises (seed 1; the
benchmarks sample from seed 0), then `optimise_grid` for every sampler of SAMPLERS at
every NFE of NFES, sharing that reference. Each grid is also measured on held-out noises
(seed 2, their own reference solve) against the best of the four fixed grids. Each grid,
with how it was computed, is merged into src/difflearn/weights/grids/<model>.json with
the model's SHA-256 (`difflearn.samplers.load_grid` reads it); `--sampler` redoes some
samplers and keeps the others, so runs can be split. Runs on the CPU with one thread;
wall times are inflated when the machine is shared, so CPU times are recorded too.

    python -m tools.optimise_grids --only digits-uncond --sampler unipc --sampler unipc-3
"""

from __future__ import annotations

import argparse
import fcntl
import json
import platform
import sys
from pathlib import Path

import torch

from difflearn import model_wrapper
from difflearn.pretrained import load
from difflearn.samplers import calibrate, optimise_grid
from difflearn.samplers.grid_cache import GRIDS, save_grids
from difflearn.samplers.grid_search import global_error
from difflearn.samplers.registry import default_t_end
from difflearn.schedules.grids import SKIP_TYPES, time_steps

# model -> calibration batch and the shape of one sample
MODELS = {"digits-uncond": (128, (1, 8, 8)), "toy2d-mlp": (512, (2,))}
# name -> (method, sampler kwargs)
SAMPLERS = {
    "unipc": ("unipc", {}),
    "unipc-3": ("unipc", {"order": 3}),
    "dpmsolver++-2": ("dpmsolver++", {"order": 2}),
    "ipndm-3": ("ipndm", {"order": 3}),
    "deis-3": ("deis", {"order": 3}),
}
NFES = (5, 6, 8, 10)
SEEDS = {"calibration": 1, "held_out": 2}
# the per-sample errors are summarised by their geometric mean: a few samples that the
# network handles badly would otherwise decide the grid (and it would not generalise)
STATISTIC = "geometric"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, 1 thread; Python {platform.python_version()}, torch {torch.__version__}"


def noises(n, shape, seed):
    return torch.randn(n, *shape, generator=torch.Generator().manual_seed(seed))


def optimise_model(name, samplers, quick, log=print, save=None, nfes=None):
    """Optimise the grids of `samplers` (names of SAMPLERS) for model `name` at `nfes`
    (default NFES); calls `save(entry)` after each."""
    batch, shape = MODELS[name]
    nfes = nfes or (NFES[:1] if quick else NFES)
    candidates, substeps, maxfev = (16, 2, 20) if quick else (64, 4, 300)
    if quick:
        batch = 16
    model, ns, _ = load(name)
    fn = model_wrapper(model, ns)
    t_start, t_end = ns.T, default_t_end(ns)
    x_cal, x_out = (noises(batch, shape, SEEDS[k]) for k in ("calibration", "held_out"))
    ref = calibrate(fn, x_cal, ns, t_start, t_end, candidates, substeps)
    out_ref = calibrate(fn, x_out, ns, t_start, t_end, candidates, substeps)
    how = {
        "command": "python -m tools.optimise_grids" + (" --quick" if quick else ""),
        "objective": f"{STATISTIC} mean over the calibration noises of the Euclidean "
                     "distance at t_end to a reference solve (DEIS-4 log-rho, `substeps` "
                     "steps between neighbouring candidates)",
        "statistic": STATISTIC,
        "calibration": {"seed": SEEDS["calibration"], "batch": batch},
        "held_out": {"seed": SEEDS["held_out"], "batch": batch},
        "candidates": candidates, "substeps": substeps, "maxfev": maxfev,
        "init": "the best of gits, time_uniform, logSNR, time_quadratic, karras, refined",
        "t_start": t_start, "t_end": t_end, "machine": machine(),
        "note": "wall times are inflated when the machine is shared; CPU times are not",
    }

    def held_out(method, kw, t):
        return {s: global_error(fn, x_out, ns, out_ref.x_end, method, t, s, **kw)
                for s in ("mean", STATISTIC)}

    for label in samplers:
        method, kw = SAMPLERS[label]
        for nfe in nfes:
            r = optimise_grid(fn, x_cal, ns, method, nfe, reference=ref, maxfev=maxfev,
                              statistic=STATISTIC, **kw)
            fixed = {skip: held_out(method, kw, time_steps(ns, skip, t_start, t_end, nfe,
                                                           dtype=torch.float64))
                     for skip in SKIP_TYPES}
            best = min(fixed, key=lambda k: fixed[k][STATISTIC])
            held = held_out(method, kw, r.timesteps)
            entry = {
                "method": method, "sampler_kwargs": kw, "nfe": nfe, "steps": nfe,
                "timesteps": r.timesteps.tolist(), "lam": r.lam.tolist(),
                "calibration_errors": r.errors, "chosen": r.how["chosen"],
                "held_out_errors": held, "held_out_best_fixed": {"grid": best, **fixed[best]},
                "cpu_seconds": r.how["cpu_seconds"], "seconds": r.how["seconds"], "how": how,
            }
            if save is not None:  # after every grid: a long run can be read as it goes
                save(entry)
            log(f"{name} {label} NFE {nfe}: held-out {STATISTIC} error "
                f"{held[STATISTIC]:.4g} (best fixed grid, {best}: {fixed[best][STATISTIC]:.4g}); "
                f"mean {held['mean']:.4g} ({fixed[best]['mean']:.4g}); "
                f"{r.how['cpu_seconds']:.0f} s CPU")


def merge_and_save(name, entry, out):
    """Add `entry` to `<out>/<name>.json` (replacing one with the same method, kwargs and
    NFE), under a lock, so that several runs can fill one file."""
    folder = Path(out or GRIDS)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{name}.json.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        path = folder / f"{name}.json"
        entries = json.loads(path.read_text())["grids"] if path.is_file() else []
        key = (entry["method"], json.dumps(entry["sampler_kwargs"], sort_keys=True), entry["nfe"])
        entries = [e for e in entries
                   if (e["method"], json.dumps(e["sampler_kwargs"], sort_keys=True), e["nfe"]) != key]
        entries.append(entry)
        entries.sort(key=lambda e: (e["method"], json.dumps(e["sampler_kwargs"], sort_keys=True), e["nfe"]))
        return save_grids(name, entries, folder)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", action="append", choices=sorted(MODELS))
    p.add_argument("--sampler", action="append", choices=list(SAMPLERS),
                   help="only these samplers (default: all); the others' grids are kept")
    p.add_argument("--nfe", action="append", type=int, choices=NFES,
                   help="only these NFEs (default: all); the others' grids are kept")
    p.add_argument("--quick", action="store_true", help="a tiny run (for the tests)")
    p.add_argument("--out", default=None, help=f"output folder (default {GRIDS})")
    args = p.parse_args(argv)
    if args.quick and args.out is None:
        sys.exit("--quick writes a toy result: give --out (not the package data)")
    torch.set_num_threads(1)
    samplers = args.sampler or (list(SAMPLERS)[:1] if args.quick else list(SAMPLERS))
    for name in args.only or sorted(MODELS):
        optimise_model(name, samplers, args.quick, lambda s: print(s, flush=True),
                       lambda entry, name=name: merge_and_save(name, entry, args.out),
                       nfes=args.nfe)
        print(f"wrote {Path(args.out or GRIDS) / f'{name}.json'}")


if __name__ == "__main__":
    main()
