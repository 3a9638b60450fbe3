"""Benchmark of the samplers: (a) error vs NFE on exact ground truth, (b) per-step overhead.

Run `python -m benchmarks.solvers` (or `python benchmarks/solvers.py`); `--out FILE` also
writes the Markdown that the site includes (docs/samplers/benchmark-cpu.md), and
`--quick` runs a smaller version. Nothing here is a test: it prints tables.

(a) The data are an exact 2-D Gaussian mixture under the DDPM linear-beta schedule
(discrete, 1000 steps), so the noise prediction is exact and the error of a sampler is
its discretisation error only: the mean Euclidean distance of 512 samples to a scipy
solve of the probability-flow ODE (rtol = atol = 1e-10) from t = 1 to t = 1e-3.
(b) The model returns zeros for a (1, 4) tensor, so the time per step is the sampler's own
overhead (CPU, one thread), ours against diffusers' schedulers.
(c) The adaptive solvers, whose tolerances (not a step count) set the NFE, on the setting of (a):
score_sde's RK45 (`method="rk45"`) and DPM-Solver-23 (`DPM_Solver.sample(method="adaptive")`).
`--adaptive --out FILE` runs and writes only this part (docs/samplers/benchmark-adaptive-cpu.md).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import torch

from difflearn import DPM_Solver, sample
from difflearn.data import GaussianMixture
from difflearn.schedules import NoiseScheduleVP, beta_schedule

NFES = (5, 8, 10, 15, 20, 50)
SKIPS = ("time_uniform", "logSNR", "time_quadratic", "karras")
T_END = 1e-3


def configs():
    """(label, method, steps-per-NFE function, kwargs)."""
    one = lambda n: n  # noqa: E731
    out = [("DDIM", "ddim", one, {}), ("Heun", "heun", lambda n: n // 2, {}), ("LMS-4", "lms", one, {"order": 4})]
    for order in (1, 2, 3):
        for variant in ("bh1", "bh2"):
            out.append((f"UniPC-{order} {variant}", "unipc", one, {"order": order, "variant": variant}))
    for alg in ("dpmsolver", "dpmsolver++"):
        name = "DPM-Solver" if alg == "dpmsolver" else "DPM-Solver++"
        for order in (2, 3):
            out.append((f"{name} {order}M", alg, one, {"order": order, "solver_method": "multistep"}))
            out.append((f"{name} {order}S", alg, one, {"order": order, "solver_method": "singlestep"}))
    return out


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}; Python {platform.python_version()}, torch {torch.__version__}"


def error_table(quick: bool):
    ns = NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000), dtype=torch.float64)
    gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2], [0.5, 0.3, 0.2])
    eps = gm.noise_fn(ns)
    n = 128 if quick else 512
    x_T = torch.randn(n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    ref = gm.pf_ode_solve(x_T, 1.0, T_END, ns)
    rows = []
    for label, method, steps_of, kw in configs():
        for skip in SKIPS:
            errs = []
            for nfe in NFES:
                steps = steps_of(nfe)
                try:
                    out = sample(eps, x_T, ns, method=method, steps=steps, skip_type=skip, t_end=T_END, **kw)
                    errs.append((out - ref).norm(dim=1).mean().item())
                except (ValueError, ImportError):  # e.g. a skip type the official API does not have
                    errs.append(float("nan"))
            rows.append((label, skip, errs))
    return rows


TOLERANCES = (1e-2, 1e-3, 1e-4, 1e-5)


def adaptive_table(quick: bool):
    """(tolerance, RK45 NFE, RK45 error, DPM-Solver-23 NFE, DPM-Solver-23 error) on the setting of (a)."""
    ns = NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000), dtype=torch.float64)
    gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2], [0.5, 0.3, 0.2])
    eps = gm.noise_fn(ns)
    x_T = torch.randn(128 if quick else 512, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    ref = gm.pf_ode_solve(x_T, 1.0, T_END, ns)
    err = lambda x: (x - ref).norm(dim=1).mean().item()  # noqa: E731
    rows = []
    for tol in TOLERANCES[:2] if quick else TOLERANCES:
        x, nfe = sample(eps, x_T, ns, method="rk45", t_end=T_END, rtol=tol, atol=tol, return_nfe=True)
        solver = DPM_Solver(eps, ns, algorithm_type="dpmsolver++")  # eps: continuous t
        y = solver.sample(x_T, t_end=T_END, order=3, method="adaptive", rtol=tol, atol=tol)
        rows.append((tol, nfe, err(x), solver.nfe, err(y)))
    return rows


def adaptive_markdown(rows) -> str:
    lines = [f"Measured on: {machine()}.", "",
             "**(c) Adaptive solvers** — the setting of (a); the tolerance (rtol = atol) sets the number "
             "of model evaluations (NFE), counted by the sampler core.", "",
             "| rtol = atol | RK45 (score_sde): NFE | error | DPM-Solver++-23 (adaptive): NFE | error |",
             "| ---: | ---: | ---: | ---: | ---: |"]
    for tol, n1, e1, n2, e2 in rows:
        lines.append(f"| {tol:.0e} | {n1} | {e1:.2e} | {n2} | {e2:.2e} |")
    return "\n".join(lines) + "\n"


def overhead_table(steps: int, repeats: int):
    torch.set_num_threads(1)
    import diffusers

    ns = NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000))
    x = torch.randn(1, 4)
    zero = lambda x, t: torch.zeros_like(x)  # noqa: E731

    def ours(method, **kw):
        return lambda: sample(zero, x, ns, method=method, steps=steps, **kw)

    def theirs(cls, **kw):
        sched = getattr(diffusers, cls)(**kw)

        def run():
            sched.set_timesteps(steps)
            y = x
            for t in sched.timesteps:
                y = sched.step(torch.zeros_like(y), t, y).prev_sample
            return y
        return run

    pairs = [
        ("DPM-Solver++(2M)", ours("dpmsolver++", order=2),
         theirs("DPMSolverMultistepScheduler", solver_order=2)),
        ("DPM-Solver++(3M)", ours("dpmsolver++", order=3),
         theirs("DPMSolverMultistepScheduler", solver_order=3)),
        ("UniPC-2 bh2", ours("unipc", order=2), theirs("UniPCMultistepScheduler", solver_order=2)),
        ("DDIM", ours("ddim"), theirs("DDIMScheduler")),
    ]
    rows = []
    for label, a, b in pairs:
        times = []
        for fn in (a, b):
            fn()  # warm up
            ts = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                fn()
                ts.append((time.perf_counter() - t0) / steps * 1e6)
            times.append(statistics.median(ts))
        rows.append((label, *times))
    return rows


def markdown(err_rows, over_rows, steps) -> str:
    lines = [f"Measured on: {machine()}.", "",
             "**(a) Error vs NFE** — mean distance to the exact probability-flow ODE solution "
             "(2-D Gaussian mixture, discrete linear schedule, t = 1 → 10⁻³; lower is better; "
             "Heun uses 2 calls per step, so its NFE is the even number below).", "",
             "| sampler | skip type | " + " | ".join(f"NFE {n}" for n in NFES) + " |",
             "| --- | --- | " + " | ".join("---:" for _ in NFES) + " |"]
    for label, skip, errs in err_rows:
        lines.append(f"| {label} | {skip} | " + " | ".join(f"{e:.2e}" for e in errs) + " |")
    ours = [r for r in err_rows if not r[0].startswith("DPM-Solver")]
    official = [r for r in err_rows if r[0].startswith("DPM-Solver")]
    k = NFES.index(10)
    best = min(ours, key=lambda r: r[2][k])
    best_off = min(official, key=lambda r: r[2][k] if r[2][k] == r[2][k] else float("inf"))
    ratio = best[2][k] / best_off[2][k]
    lines += ["", f"Best at NFE 10: **{best[0]} ({best[1]})**, error {best[2][k]:.2e}; best DPM-Solver "
              f"configuration: {best_off[0]} ({best_off[1]}), {best_off[2][k]:.2e}; ratio **{ratio:.2f}** "
              "(target ≤ 0.67).", "",
              f"**(b) Per-step overhead** — µs per step, {steps} steps, a (1, 4) tensor, a model that "
              "returns zeros, CPU, `torch.set_num_threads(1)`, median of repeats (setup included).", "",
              "| sampler | difflearn (µs/step) | diffusers (µs/step) | ratio |",
              "| --- | ---: | ---: | ---: |"]
    for label, a, b in over_rows:
        lines.append(f"| {label} | {a:.1f} | {b:.1f} | {a / b:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer samples and repeats")
    p.add_argument("--out", type=Path, help="also write the Markdown table to this file")
    p.add_argument("--adaptive", action="store_true", help="only part (c), the adaptive solvers")
    args = p.parse_args(argv)
    if args.adaptive:
        text = adaptive_markdown(adaptive_table(args.quick))
        print(text)
        if args.out:
            args.out.write_text("<!-- generated by `python -m benchmarks.solvers --adaptive --out " + str(args.out)
                                + "`; do not edit -->\n\n" + text)
        return
    steps = 50
    err_rows = error_table(args.quick)
    over_rows = overhead_table(steps, 5 if args.quick else 30)
    text = markdown(err_rows, over_rows, steps)
    print(text)
    print(adaptive_markdown(adaptive_table(args.quick)))
    if args.out:
        args.out.write_text("<!-- generated by `python -m benchmarks.solvers --out " + str(args.out)
                            + "`; do not edit -->\n\n" + text)


if __name__ == "__main__":
    main()
