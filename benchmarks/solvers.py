"""Benchmark of the samplers: (a) error vs NFE on exact ground truth, (b) per-step overhead.

Run `python -m benchmarks.solvers` (or `python benchmarks/solvers.py`); `--out FILE` also
writes the Markdown that the site includes (docs/samplers/benchmark-cpu.md), and
`--quick` runs a smaller version. Nothing here is a test: it prints tables.

(a) The data are an exact 2-D Gaussian mixture under the DDPM linear-beta schedule
(discrete, 1000 steps), so the noise prediction is exact and the error of a sampler is
its discretisation error only: the mean Euclidean distance of 512 samples to a scipy
solve of the probability-flow ODE (rtol = atol = 1e-10) from t = 1 to t = 1e-3.
Rows: every sampler on the four fixed grids; the same samplers on grids optimised by
`difflearn.samplers.optimise_grid` for each NFE on 256 *other* noises (seed 1; the table's
noises are seed 0); the analytic first step (AFS) with the mixture's exact mean and
variance. (a2) sweeps the whole official DPM-Solver API (`DPM_Solver.sample`: both
algorithm types, multistep / singlestep / singlestep_fixed, orders 1-3, both solver
types, the three official skip types) and reports its best configuration per NFE, the
baseline of the target (best difflearn error <= 0.67 x best official error).
(b) The model returns zeros for a (1, 4) tensor, so the CPU time per step is the sampler's own
overhead (CPU, one thread), ours against diffusers' schedulers.
(c) The adaptive solvers, whose tolerances (not a step count) set the NFE, on the setting of (a):
score_sde's RK45 (`method="rk45"`) and DPM-Solver-23 (`DPM_Solver.sample(method="adaptive")`).
`--adaptive --out FILE` runs and writes only this part (docs/samplers/benchmark-adaptive-cpu.md).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch

from difflearn import DPM_Solver, sample
from difflearn.data import GaussianMixture
from difflearn.samplers import analytic_first_step, calibrate, optimise_grid
from difflearn.schedules import NoiseScheduleVP, beta_schedule

NFES = (5, 8, 10, 15, 20, 50)
OPT_NFES = (5, 8, 10, 15, 20)  # optimised grids (NFE 50: not computed, '—')
SKIPS = ("time_uniform", "logSNR", "time_quadratic", "karras")
OFFICIAL_SKIPS = ("time_uniform", "logSNR", "time_quadratic")
T_END = 1e-3


def configs():
    """(label, method, steps-per-NFE function, kwargs, official?): the fixed-grid rows."""
    one = lambda n: n  # noqa: E731
    out = [("DDIM", "ddim", one, {}), ("Heun", "heun", lambda n: n // 2, {}), ("LMS-4", "lms", one, {"order": 4})]
    for order in (1, 2, 3):
        for variant in ("bh1", "bh2"):
            out.append((f"UniPC-{order} {variant}", "unipc", one, {"order": order, "variant": variant}))
    for order in (2, 3, 4):
        out.append((f"DEIS-{order} tAB", "deis", one, {"order": order}))
    out.append(("DEIS-3 log-rho", "deis", one, {"order": 3, "basis": "logrho"}))
    for order in (2, 3, 4):
        out.append((f"iPNDM-{order}", "ipndm", one, {"order": order}))
    out = [(*c, False) for c in out]
    for alg in ("dpmsolver", "dpmsolver++"):
        name = "DPM-Solver" if alg == "dpmsolver" else "DPM-Solver++"
        for order in (2, 3):
            out.append((f"{name} {order}M", alg, one, {"order": order, "solver_method": "multistep"}, True))
            out.append((f"{name} {order}S", alg, one, {"order": order, "solver_method": "singlestep"}, True))
    return out


# samplers whose grid is optimised per NFE: (label, method, kwargs)
OPTIMISED = [
    ("DDIM", "ddim", {}),
    ("UniPC-2 bh2", "unipc", {"order": 2}),
    ("UniPC-3 bh2", "unipc", {"order": 3}),
    ("DPM-Solver++(2M)", "dpmsolver++", {"order": 2}),
    ("DPM-Solver++(3M)", "dpmsolver++", {"order": 3}),
    ("DEIS-3 tAB", "deis", {"order": 3}),
    ("iPNDM-3", "ipndm", {"order": 3}),
    ("iPNDM-4", "ipndm", {"order": 4}),
]
# the analytic first step saves one call: NFE n buys n + 1 steps
AFS = [("UniPC-2 bh2", "unipc", {"order": 2}), ("iPNDM-3", "ipndm", {"order": 3})]


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


def mixture():
    ns = NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000), dtype=torch.float64)
    gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2], [0.5, 0.3, 0.2])
    return ns, gm


def moments(gm):
    """The mixture's exact mean and per-coordinate variance (for the analytic first step)."""
    w, mu, s2 = gm.weights[:, None], gm.means, (gm.stds**2)[:, None]
    mean = (w * mu).sum(0)
    return mean, (w * (s2 + mu**2)).sum(0) - mean**2


def _err(out, ref):
    return (out - ref).norm(dim=1).mean().item()


def error_table(quick: bool):
    ns, gm = mixture()
    eps = gm.noise_fn(ns)
    n = 128 if quick else 512
    x_T = torch.randn(n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    ref = gm.pf_ode_solve(x_T, 1.0, T_END, ns)
    nfes = NFES[:3] if quick else NFES
    rows = []
    for label, method, steps_of, kw, official in configs():
        for skip in SKIPS:
            errs = []
            for nfe in nfes:
                try:
                    out = sample(eps, x_T, ns, method=method, steps=steps_of(nfe), skip_type=skip, t_end=T_END, **kw)
                    errs.append(_err(out, ref))
                except (ValueError, ImportError):  # e.g. a skip type the official API does not have
                    errs.append(float("nan"))
            rows.append({"label": label, "grid": skip, "errors": errs, "official": official})
    # optimised grids: calibrated on other noises, measured on x_T
    x_cal = torch.randn(64 if quick else 256, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    cal = calibrate(eps, x_cal, ns, 1.0, T_END, candidates=64, substeps=8)
    maxfev = 40 if quick else 400
    opt_nfes = [m for m in nfes if m in OPT_NFES]
    grids = {}
    for label, method, kw in OPTIMISED[: 2 if quick else None]:
        errs = []
        for nfe in nfes:
            if nfe not in opt_nfes:
                errs.append(float("nan"))
                continue
            r = optimise_grid(eps, x_cal, ns, method, nfe, reference=cal, starts=2, maxfev=maxfev, **kw)
            errs.append(_err(sample(eps, x_T, ns, method, timesteps=r.timesteps, **kw), ref))
            grids[f"{label} NFE {nfe}"] = r.timesteps.tolist()
        rows.append({"label": label, "grid": "optimised", "errors": errs, "official": False})
    mean, var = moments(gm)
    afs = analytic_first_step(eps, ns, 1.0, mean, var)
    for label, method, kw in AFS[: 1 if quick else None]:
        for grid in ("time_quadratic", "optimised"):
            errs = []
            for nfe in nfes:
                if grid == "optimised" and nfe not in opt_nfes:
                    errs.append(float("nan"))
                    continue
                if grid == "optimised":  # the reference is the model's own; the grid is for AFS
                    r = optimise_grid(afs, x_cal, ns, method, nfe + 1, reference=cal, starts=2, maxfev=maxfev, **kw)
                    t = r.timesteps
                    grids[f"{label} + AFS NFE {nfe}"] = t.tolist()
                else:
                    t = torch.linspace(1.0, T_END**0.5, nfe + 2, dtype=torch.float64) ** 2
                    t[0], t[-1] = 1.0, T_END
                saved = afs.saved
                errs.append(_err(sample(afs, x_T, ns, method, timesteps=t, **kw), ref))
                assert afs.saved == saved + 1  # exactly one call answered analytically
            rows.append({"label": f"{label} + AFS", "grid": grid, "errors": errs, "official": False})
    return rows, grids


def official_sweep(quick: bool):
    """Every configuration of the official API; the best per NFE."""
    ns, gm = mixture()
    eps = gm.noise_fn(ns)
    n = 128 if quick else 512
    x_T = torch.randn(n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    ref = gm.pf_ode_solve(x_T, 1.0, T_END, ns)
    nfes = NFES[:3] if quick else NFES
    results = []
    for alg in ("dpmsolver", "dpmsolver++"):
        solver = DPM_Solver(eps, ns, algorithm_type=alg)
        for method in ("multistep", "singlestep", "singlestep_fixed"):
            for order in (1, 2, 3):
                for solver_type in ("dpmsolver", "taylor"):
                    for skip in OFFICIAL_SKIPS:
                        errs = []
                        for nfe in nfes:
                            try:
                                out = solver.sample(x_T, steps=nfe, t_start=1.0, t_end=T_END, order=order,
                                                    skip_type=skip, method=method, solver_type=solver_type)
                                errs.append(_err(out, ref))
                            except (ValueError, RuntimeError):
                                errs.append(float("nan"))
                        results.append({"algorithm_type": alg, "method": method, "order": order,
                                        "solver_type": solver_type, "skip_type": skip, "errors": errs})
    return results


def _best(rows, k, key="errors"):
    ok = [r for r in rows if r[key][k] == r[key][k]]
    return min(ok, key=lambda r: r[key][k])


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
        ("DEIS-3 log-rho", ours("deis", order=3, basis="logrho"), theirs("DEISMultistepScheduler", solver_order=3)),
    ]
    rows = []
    for label, a, b in pairs:
        times = []
        for fn in (a, b):
            fn()  # warm up
            ts = []
            for _ in range(repeats):
                t0 = time.process_time()  # CPU time: not inflated by a shared machine
                fn()
                ts.append((time.process_time() - t0) / steps * 1e6)
            times.append(statistics.median(ts))
        rows.append((label, *times))
    return rows


def _official_label(r):
    name = "DPM-Solver" if r["algorithm_type"] == "dpmsolver" else "DPM-Solver++"
    return f"{name}, {r['method']}, order {r['order']}, solver_type {r['solver_type']}, {r['skip_type']}"


def markdown(err_rows, sweep, over_rows, steps, nfes=NFES) -> str:
    fmt = lambda e: f"{e:.2e}" if e == e else "—"  # noqa: E731
    lines = [f"Measured on: {machine()}.", "",
             "**(a) Error vs NFE** — mean distance to the exact probability-flow ODE solution "
             "(2-D Gaussian mixture, discrete linear schedule, t = 1 → 10⁻³; lower is better; "
             "Heun uses 2 calls per step, so its NFE is the even number below). *optimised*: the grid "
             "`optimise_grid` returns for that sampler and NFE, computed on 256 other noises; *+ AFS*: the "
             "first call answered by the analytic first step (exact mean and variance), so NFE n gets "
             "n + 1 steps.", "",
             "| sampler | grid | " + " | ".join(f"NFE {n}" for n in nfes) + " |",
             "| --- | --- | " + " | ".join("---:" for _ in nfes) + " |"]
    for r in err_rows:
        lines.append(f"| {r['label']} | {r['grid']} | " + " | ".join(fmt(e) for e in r["errors"]) + " |")
    ours = [r for r in err_rows if not r["official"]]
    lines += ["", f"**(a2) The official DPM-Solver API** — `DPM_Solver.sample` in all {len(sweep)} "
              "configurations (algorithm type × method × order × solver type × skip type), same noises; "
              "the best one at each NFE, against the best difflearn row of (a).", "",
              "| NFE | best official configuration | error | best difflearn configuration | error | ratio |",
              "| ---: | --- | ---: | --- | ---: | ---: |"]
    for k, n in enumerate(nfes):
        off, mine = _best(sweep, k), _best(ours, k)
        lines.append(f"| {n} | {_official_label(off)} | {off['errors'][k]:.2e} | {mine['label']} ({mine['grid']}) | "
                     f"{mine['errors'][k]:.2e} | **{mine['errors'][k] / off['errors'][k]:.2f}** |")
    lines += ["", "Target: ratio ≤ 0.67 at NFE 5 and 10.", "",
              f"**(b) Per-step overhead** — µs per step, {steps} steps, a (1, 4) tensor, a model that "
              "returns zeros, CPU, `torch.set_num_threads(1)`, median of repeats (setup included); CPU time "
              "of the process, so that waiting for a shared machine does not count.", "",
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
    torch.set_num_threads(1)
    clock, cpu = time.perf_counter(), time.process_time()
    err_rows, grids = error_table(args.quick)
    sweep = official_sweep(args.quick)
    over_rows = overhead_table(steps, 5 if args.quick else 30)
    text = markdown(err_rows, sweep, over_rows, steps, NFES[:3] if args.quick else NFES)
    print(text)
    print(adaptive_markdown(adaptive_table(args.quick)))
    if args.out:
        args.out.write_text("<!-- generated by `python -m benchmarks.solvers --out " + str(args.out)
                            + "`; do not edit -->\n\n" + text)
        record = {"machine": machine(), "nfes": list(NFES[:3] if args.quick else NFES), "rows": err_rows,
                  "official": sweep, "optimised_grids": grids,
                  "seconds": round(time.perf_counter() - clock, 1), "cpu_seconds": round(time.process_time() - cpu, 1)}
        args.out.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
