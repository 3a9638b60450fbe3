"""Optimise the time grids of the shipped models and write them as package data.

    python -m tools.optimise_grids                          # every model of MODELS
    python -m tools.optimise_grids --only digits-uncond     # one model
    python -m tools.optimise_grids --quick --out /tmp/g     # a small run, for the tests

For each model: one reference solve from the calibration noises (seed 1; the
benchmarks sample from seed 0), then `optimise_grid` for every sampler of SAMPLERS at
every NFE of NFES, sharing that reference. Each grid is also measured on held-out noises
(seed 2, their own reference solve) against the best of the four fixed grids. The result,
with the model's SHA-256 and how it was computed, goes to
src/difflearn/weights/grids/<model>.json (`difflearn.samplers.load_grid` reads it).
Runs on the CPU with one thread; wall times are inflated when the machine is shared, so
CPU times are recorded too.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

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
SAMPLERS = [
    ("unipc", {}),
    ("unipc", {"order": 3}),
    ("dpmsolver++", {"order": 2}),
    ("ipndm", {"order": 3}),
    ("deis", {"order": 3}),
]
NFES = (5, 6, 8, 10)
SEEDS = {"calibration": 1, "held_out": 2}


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


def optimise_model(name, quick, log=print, save=None):
    batch, shape = MODELS[name]
    samplers, nfes = (SAMPLERS[:1], NFES[:1]) if quick else (SAMPLERS, NFES)
    candidates, substeps, maxfev = (16, 2, 20) if quick else (64, 4, 300)
    if quick:
        batch = 16
    model, ns, _ = load(name)
    fn = model_wrapper(model, ns)
    t_start, t_end = ns.T, default_t_end(ns)
    cpu0 = time.process_time()
    x_cal, x_out = (noises(batch, shape, SEEDS[k]) for k in ("calibration", "held_out"))
    ref = calibrate(fn, x_cal, ns, t_start, t_end, candidates, substeps)
    out_ref = calibrate(fn, x_out, ns, t_start, t_end, candidates, substeps)
    entries = []
    for method, kw in samplers:
        for nfe in nfes:
            r = optimise_grid(fn, x_cal, ns, method, nfe, reference=ref, maxfev=maxfev,
                              **kw)
            fixed = {
                skip: global_error(fn, x_out, ns, out_ref.x_end, method,
                                   time_steps(ns, skip, t_start, t_end, nfe,
                                              dtype=torch.float64), **kw)
                for skip in SKIP_TYPES
            }
            best_skip = min(fixed, key=fixed.get)
            held = global_error(fn, x_out, ns, out_ref.x_end, method, r.timesteps, **kw)
            entries.append({
                "method": method, "sampler_kwargs": kw, "nfe": nfe, "steps": nfe,
                "timesteps": r.timesteps.tolist(), "lam": r.lam.tolist(),
                "calibration_errors": r.errors, "chosen": r.how["chosen"],
                "held_out_error": held, "held_out_best_fixed": [best_skip, fixed[best_skip]],
                "cpu_seconds": r.how["cpu_seconds"], "seconds": r.how["seconds"],
            })
            if save is not None:  # after every grid: a long run can be read as it goes
                save(entries, {"partial": True})
            log(f"{name} {method} {kw} NFE {nfe}: held-out error {held:.4g} "
                f"(best fixed grid {best_skip}: {fixed[best_skip]:.4g}), "
                f"{r.how['cpu_seconds']:.0f} s CPU")
    how = {
        "command": "python -m tools.optimise_grids" + (" --quick" if quick else ""),
        "objective": "mean over the calibration noises of the Euclidean distance at t_end "
                     "to a reference solve (DEIS-4 log-rho, `substeps` steps between "
                     "neighbouring candidates)",
        "calibration": {"seed": SEEDS["calibration"], "batch": batch},
        "held_out": {"seed": SEEDS["held_out"], "batch": batch},
        "candidates": candidates, "substeps": substeps, "maxfev": maxfev,
        "init": "best of gits, time_uniform, logSNR, time_quadratic, karras; refined",
        "t_start": t_start, "t_end": t_end,
        "machine": machine(),
        "cpu_seconds": round(time.process_time() - cpu0, 1),
        "note": "wall times are inflated when the machine is shared; CPU times are not",
    }
    return entries, how


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", action="append", choices=sorted(MODELS))
    p.add_argument("--quick", action="store_true", help="a tiny run (for the tests)")
    p.add_argument("--out", default=None, help=f"output folder (default {GRIDS})")
    args = p.parse_args(argv)
    if args.quick and args.out is None:
        sys.exit("--quick writes a toy result: give --out (not the package data)")
    torch.set_num_threads(1)
    for name in args.only or sorted(MODELS):
        def save(entries, how, name=name):
            return save_grids(name, entries, args.out, how=how)

        entries, how = optimise_model(name, args.quick, lambda s: print(s, flush=True),
                                      save)
        path = save(entries, how)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
