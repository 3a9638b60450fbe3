"""Few-step generation side by side: the distilled models against their teacher's best ODE solver.

    python -m benchmarks.fewstep --out docs/fewstep/benchmark-cpu.md    # after python -m tools.train_fewstep
    python -m benchmarks.fewstep --quick                                 # small and fast (the tests)

One run, printed as tables and written as Markdown plus a JSON record beside it:

1. Digits, at 1, 2, 4 and 8 model calls (and the teacher at 20): digits-FID of 899 samples against a fixed half
   of the real digits (the protocol of benchmarks/quality.py), CPU and wall seconds for the 899 samples, and
   diversity: the histogram of the classes that `digits-features` (the classifier behind
   `difflearn.metrics.classifier_accuracy`) assigns, summarised by its entropy (log2 10 = 3.32 bits is uniform).
   Rows: the teacher `digits-uncond` with the best of DDIM, DPM-Solver++(2M), DPM-Solver++(3M) and UniPC on
   time-uniform and logSNR grids at each NFE (the cell names the winner); progressive distillation (the student of
   the round with that many steps); consistency distillation and improved consistency training (multistep
   consistency sampling); the 1-rectified flow and the reflowed 2-rectified flow (Euler).
2. Straightness (Liu et al., 2023) of the two digit flows, 64 Euler steps, per pixel.
3. The 2-D mixture ring8, where the exact map noise -> data of the probability-flow ODE is known
   (`GaussianMixture.pf_ode_solve`): the RMS distance of each deterministic sampler's output to it, and the mean
   negative log-likelihood of the samples under the exact mixture (for all, the stochastic ones included).
4. What each model cost to train (from the records of tools/train_fewstep.py).

Models come from .cache/fewstep (written by `python -m tools.train_fewstep`); --quick uses the shipped ones only.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

from benchmarks.quality import cpu_name
from difflearn import FlowSchedule, model_wrapper, sample
from difflearn.data import load_digits, mixture_2d, split
from difflearn.fewstep import (
    consistency_model_fn,
    consistency_sampling,
    consistency_timesteps,
    straightness,
    student_timesteps,
    velocity_fn,
)
from difflearn.metrics import digits_fid
from difflearn.pretrained import build_model, list_models, load, schedule_from_config
from difflearn.samplers import ddim, flow_euler, flow_timesteps
from difflearn.training.checkpoints import write_atomic

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "fewstep"
NFES = (1, 2, 4, 8)
SOLVERS = {"DDIM": ("ddim", {}), "DPM-Solver++(2M)": ("dpmsolver++", {"order": 2}),
           "DPM-Solver++(3M)": ("dpmsolver++", {"order": 3}), "UniPC": ("unipc", {})}
GRIDS = ("time_uniform", "logSNR")


def load_model(name: str, quick: bool):
    """(model, card) from .cache/fewstep, or the shipped copy (--quick, or when the cache lacks it)."""
    path = CACHE / f"{name}.json"
    if path.exists() and not quick:
        card = json.loads(path.read_text())
        model = build_model(card)
        model.load_state_dict(load_file(str(CACHE / f"{name}.safetensors")))
        return model.eval().requires_grad_(False), card
    if name in list_models():
        model, _, card = load(name)
        return model, card
    return None, None


def counted(fn):
    def wrapped(x, t):
        wrapped.calls += 1
        return fn(x, t)
    wrapped.calls = 0
    return wrapped


def timed(run):
    cpu, wall = time.process_time(), time.perf_counter()
    with torch.no_grad():
        out = run()
    return out, time.process_time() - cpu, time.perf_counter() - wall


def class_histogram(x: torch.Tensor, features) -> list[int]:
    with torch.no_grad():
        labels = features(x.clamp(-1, 1)).argmax(-1)
    return torch.bincount(labels, minlength=10).tolist()


def entropy_bits(hist) -> float:
    p = torch.tensor(hist, dtype=torch.float64) / sum(hist)
    return float(-(p[p > 0] * p[p > 0].log2()).sum())


def digits(quick: bool) -> dict:
    real, _ = load_digits(8)
    a, b = split(len(real), 0.5, seed=0)
    ref, n = real[a], (200 if quick else len(b))
    x_T = torch.randn(n, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    features = load("digits-features")[0]
    teacher, ns, _ = load("digits-uncond")
    out = {"n": n, "real_vs_real": digits_fid(ref, real[b][:n]), "rows": {}}
    out["real_histogram"] = class_histogram(real[b][:n], features)

    def cell(fn, sampler, *args, **kwargs):
        """Run `sampler(fn, *args, **kwargs)` with `fn` a counted model; measure the samples."""
        x, cpu, wall = timed(lambda: sampler(fn, *args, **kwargs))
        hist = class_histogram(x, features)
        return {"fid": digits_fid(ref, x), "cpu_s": round(cpu, 3), "wall_s": round(wall, 3),
                "nfe": fn.calls, "histogram": hist, "entropy_bits": entropy_bits(hist)}

    rows = out["rows"]
    rows["teacher (best ODE solver)"] = teacher_rows(teacher, ns, x_T, cell, quick)
    pd = {}
    for nfe in NFES:
        model, _ = load_model(f"digits-pd-{nfe}", quick)
        if model is not None:
            fn = counted(model_wrapper(model, ns, model_type="v"))
            pd[nfe] = cell(fn, ddim, x_T, ns, student_timesteps(ns, nfe))
    rows["progressive distillation"] = pd
    for label, name in (("consistency distillation", "digits-cd"), ("consistency training (iCT)", "digits-ict")):
        model, card = load_model(name, quick)
        if model is None:
            continue
        rows[label] = {}
        for nfe in NFES:
            fn = counted(consistency_model_fn(model_wrapper(model, ns, model_type="v"), ns, card["sigma_min"]))
            rows[label][nfe] = cell(fn, consistency_sampling, x_T, ns, consistency_timesteps(ns, nfe),
                                    generator=torch.Generator().manual_seed(1))
    out["straightness"] = {}
    for label, name in (("1-rectified flow", "digits-rf1"), ("2-rectified flow (reflow)", "digits-rf2")):
        model, _ = load_model(name, quick)
        if model is None:
            continue
        rows[label] = {}
        for nfe in NFES:
            fn = counted(velocity_fn(model))
            rows[label][nfe] = cell(fn, flow_euler, x_T, flow_timesteps(nfe))
        with torch.no_grad():
            _, S = straightness(velocity_fn(model), x_T, flow_timesteps(16 if quick else 64))
        out["straightness"][label] = {"mean": float(S.mean()) / 64, "se": float(S.std()) / 64 / math.sqrt(n)}
    out["seed_spread"] = seed_spread(rows, teacher, ns, ref, n, quick)
    for label, r in rows.items():
        print(label, {k: round(v["fid"], 2) for k, v in r.items()}, flush=True)
    return out


def seed_spread(rows, teacher, ns, ref, n: int, quick: bool, calls: int = 8) -> dict:
    """How far a cell moves with another draw of x_T: the teacher's best solver and the reflowed flow at
    `calls` calls, on x_T drawn with seeds 0 (the table's cell) to 4."""
    label, grid = rows["teacher (best ODE solver)"][calls]["solver"].rsplit(", ", 1)
    method, kw = SOLVERS[label]
    runs = {"teacher (best ODE solver)": lambda z: sample(model_wrapper(teacher, ns), z, ns, method=method,
                                                          steps=calls, skip_type=grid, **kw)}
    rf2, _ = load_model("digits-rf2", quick)
    if rf2 is not None:
        runs["2-rectified flow (reflow)"] = lambda z: flow_euler(velocity_fn(rf2), z, flow_timesteps(calls))
    spread = {}
    for name, run in runs.items():
        fids = [rows[name][calls]["fid"]]
        for seed in range(1, 3 if quick else 5):
            z = torch.randn(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed))
            with torch.no_grad():
                fids.append(digits_fid(ref, run(z)))
        f = torch.tensor(fids, dtype=torch.float64)
        spread[name] = {"calls": calls, "fids": fids, "mean": float(f.mean()), "sd": float(f.std())}
    return spread


def teacher_rows(teacher, ns, x_T, cell, quick: bool) -> dict:
    """The teacher's best solver at each NFE; kept in .cache/fewstep/teacher-rows.json (not --quick), so that a
    rerun after new students are trained does not repeat it (delete the file to measure again)."""
    path = CACHE / "teacher-rows.json"
    if path.exists() and not quick:
        return {int(k): v for k, v in json.loads(path.read_text()).items()}
    rows = {}
    for nfe in NFES + (20,):
        best, every = None, {}
        for label, (method, kw) in SOLVERS.items():
            for grid in GRIDS:
                fn = counted(model_wrapper(teacher, ns))
                c = cell(fn, sample, x_T, ns, method=method, steps=nfe, skip_type=grid, **kw)
                c["solver"] = f"{label}, {grid}"
                every[c["solver"]] = c["fid"]
                if best is None or c["fid"] < best["fid"]:
                    best = c
        rows[nfe] = {**best, "every_solver": every}
        print("teacher", nfe, best["solver"], f"{best['fid']:.2f}", flush=True)
    if not quick:
        CACHE.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rows, indent=1) + "\n")
    return rows


def mixture(quick: bool) -> dict:
    gm = mixture_2d("ring8")
    ns = schedule_from_config({"schedule": "discrete", "beta_schedule": "linear", "num_timesteps": 1000})
    flow = FlowSchedule()
    n = 200 if quick else 2000
    z = torch.randn(n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    t_min = 1e-3
    vp_map = gm.pf_ode_solve(z, 1.0, t_min, ns, rtol=1e-8, atol=1e-8)
    exact = model_wrapper(gm.noise_fn(ns, time_input="discrete"), ns)
    out = {"n": n, "data_nll": float(-gm.log_prob(gm.sample(n, generator=torch.Generator().manual_seed(1))).mean()),
           "rows": {}}

    def cell(x, ref):
        x = x.double()
        return {"map_error": None if ref is None else float((x - ref).pow(2).sum(1).mean().sqrt()),
                "nll": float(-gm.log_prob(x).mean())}

    rows = out["rows"]
    rows["exact teacher (best ODE solver)"] = {}
    for nfe in NFES:
        best = None
        for label, (method, kw) in SOLVERS.items():
            for grid in GRIDS:
                with torch.no_grad():
                    x = sample(exact, z, ns, method=method, steps=nfe, skip_type=grid, t_end=t_min, **kw)
                c = cell(x, vp_map)
                c["solver"] = f"{label}, {grid}"
                if best is None or c["map_error"] < best["map_error"]:
                    best = c
        rows["exact teacher (best ODE solver)"][nfe] = best
    zf = z.float()
    rows["progressive distillation"] = {}
    for nfe in NFES:
        model, _ = load_model(f"ring8-pd-{nfe}", quick)
        if model is not None:
            with torch.no_grad():
                x = ddim(model_wrapper(model, ns, model_type="v"), zf, ns, student_timesteps(ns, nfe))
            rows["progressive distillation"][nfe] = cell(x, vp_map)
    for label, name in (("consistency distillation", "ring8-cd"), ("consistency training (iCT)", "ring8-ict")):
        model, card = load_model(name, quick)
        if model is None:
            continue
        fn = consistency_model_fn(model_wrapper(model, ns, model_type="v"), ns, card["sigma_min"])
        t0 = float(consistency_timesteps(ns, 1)[0])
        cm_map = gm.pf_ode_solve(z, t0, t_min, ns, rtol=1e-8, atol=1e-8)  # x_T is the state at t0
        rows[label] = {}
        for nfe in NFES:
            with torch.no_grad():
                x = consistency_sampling(fn, zf, ns, consistency_timesteps(ns, nfe),
                                         generator=torch.Generator().manual_seed(2))
            rows[label][nfe] = cell(x, cm_map if nfe == 1 else None)
    flow_map = gm.pf_ode_solve(z, 1 - 1e-6, 1e-6, flow, rtol=1e-8, atol=1e-8)
    out["straightness"] = {}
    for label, name in (("1-rectified flow", "ring8-rf1"), ("2-rectified flow (reflow)", "ring8-rf2")):
        model, _ = load_model(name, quick)
        if model is None:
            continue
        rows[label] = {}
        for nfe in NFES:
            with torch.no_grad():
                x = flow_euler(velocity_fn(model), zf, flow_timesteps(nfe))
            rows[label][nfe] = cell(x, flow_map)
        with torch.no_grad():
            _, S = straightness(velocity_fn(model), zf, flow_timesteps(64))
        out["straightness"][label] = {"mean": float(S.mean()), "se": float(S.std()) / math.sqrt(n)}
    for label, r in rows.items():
        print(label, {k: (None if v["map_error"] is None else round(v["map_error"], 3), round(v["nll"], 2))
                      for k, v in r.items()}, flush=True)
    return out


def training_costs() -> dict:
    costs = {}
    for path in sorted(CACHE.glob("*.json")):
        card = json.loads(path.read_text())
        if "method" not in card:  # teacher-rows.json
            continue
        costs[card["name"]] = {k: card.get(k) for k in ("method", "steps", "cpu_s", "wall_s", "device", "params")}
        costs[card["name"]]["fraction"] = card.get("fraction_of_spec", 1.0)
    teacher = load("digits-uncond")[2]
    costs["digits-uncond (teacher)"] = {"method": "noise prediction (Ho et al., 2020)", "steps": teacher["steps"],
                                        "cpu_s": None, "wall_s": teacher["wall_time_s"], "device": teacher["device"],
                                        "params": teacher["params"], "fraction": 1.0}
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 samples, shipped models only")
    parser.add_argument("--out", type=Path, default=None, help="Markdown table (JSON beside it)")
    parser.add_argument("--alone", action="store_true", help="say that no other job shared the cores")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    cached = (CACHE / "teacher-rows.json").exists() and not args.quick
    record = {"digits": digits(args.quick), "mixture": mixture(args.quick), "training": training_costs(),
              "device": f"CPU ({cpu_name()}), 1 torch thread, {os.cpu_count()} cores"
                        + ("" if args.alone else " shared with other jobs"),
              "torch": torch.__version__, "quick": args.quick, "teacher_rows_cached": cached}
    record["seconds"] = round(time.perf_counter() - start, 1)
    text = markdown(record)
    print(text)
    if args.out:
        for path, content in ((args.out, text), (args.out.with_suffix(".json"), json.dumps(record, indent=1) + "\n")):
            write_atomic(path, content.encode())


def markdown(r: dict) -> str:
    d, m = r["digits"], r["mixture"]
    cols = [str(n) for n in NFES]
    cached = " (the teacher's rows read from an earlier run's cache)" if r.get("teacher_rows_cached") else ""
    lines = ["<!-- generated by `python -m benchmarks.fewstep --out docs/fewstep/benchmark-cpu.md`; do not edit -->",
             "", f"Generated by `python -m benchmarks.fewstep` on {r['device']}, torch {r['torch']}, in "
             f"{r['seconds']:.0f} s{cached}. Digits: digits-FID (lower is better) of {d['n']} samples against a fixed "
             f"half of the real digits, same $x_T$ in every cell; the other half of the real digits scores "
             f"**{d['real_vs_real']:.2f}**.", "",
             "| model \\ model calls | " + " | ".join(cols) + " | 20 |", "| --- |" + " ---: |" * (len(cols) + 1)]
    for label, row in d["rows"].items():
        cells = [f"{row[k]['fid']:.2f}" if k in row else "-" for k in NFES]
        cells.append(f"{row[20]['fid']:.2f}" if 20 in row else "")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    teacher = d["rows"]["teacher (best ODE solver)"]
    lines += ["", "The teacher's best solver at each number of calls: " +
              "; ".join(f"{k}: {v['solver']}" for k, v in teacher.items()) + ".", ""]
    if "seed_spread" in d:
        lines += ["How far a cell moves with the draw of $x_T$, at "
                  f"{next(iter(d['seed_spread'].values()))['calls']} calls (seeds 0, the table's, to "
                  f"{len(next(iter(d['seed_spread'].values()))['fids']) - 1}; mean ± standard deviation): "
                  + "; ".join(f"{name} {v['mean']:.2f} ± {v['sd']:.2f}" for name, v in d["seed_spread"].items())
                  + ".", ""]
    lines += [
              "Diversity: entropy (bits) of the histogram of classes that `digits-features` assigns to the samples "
              f"(uniform: 3.32; the real digits: {entropy_bits(d['real_histogram']):.2f}), and CPU seconds for "
              f"the {d['n']} samples (wall seconds in parentheses).", "",
              "| model | " + " | ".join(f"entropy @{c}" for c in cols) + " | " +
              " | ".join(f"CPU s @{c}" for c in cols) + " |", "| --- |" + " ---: |" * (2 * len(cols))]
    for label, row in d["rows"].items():
        ent = [f"{row[k]['entropy_bits']:.2f}" if k in row else "-" for k in NFES]
        cpu = [f"{row[k]['cpu_s']:.2f} ({row[k]['wall_s']:.1f})" if k in row else "-" for k in NFES]
        lines.append(f"| {label} | " + " | ".join(ent + cpu) + " |")
    lines += ["", "Straightness $S$ (Liu et al., 2023), 64 Euler steps, per pixel (digits) and per point "
              "(ring8), mean ± standard error:", "", "| flow | digits | ring8 |", "| --- | ---: | ---: |"]
    for label in d["straightness"]:
        a, b = d["straightness"][label], m["straightness"].get(label)
        lines.append(f"| {label} | {a['mean']:.4f} ± {a['se']:.4f} | "
                     + (f"{b['mean']:.4f} ± {b['se']:.4f}" if b else "-") + " |")
    lines += ["", f"The 2-D mixture ring8, {m['n']} samples: RMS distance to the exact probability-flow ODE map from "
              "the same noise (a dash: a stochastic sampler, no map), and in parentheses the mean negative "
              f"log-likelihood under the exact mixture (its own samples: {m['data_nll']:.2f}).", "",
              "| model \\ model calls | " + " | ".join(cols) + " |", "| --- |" + " ---: |" * len(cols)]
    for label, row in m["rows"].items():
        cells = []
        for k in NFES:
            if k not in row:
                cells.append("-")
                continue
            err = row[k]["map_error"]
            cells.append(("-" if err is None else f"{err:.3f}") + f" ({row[k]['nll']:.2f})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    students = {name: c for name, c in r["training"].items() if "teacher" not in name}
    runs = {}  # one `--only` run of tools/train_fewstep.py: all rounds of a distillation together
    for name, c in students.items():
        run = name.rsplit("-", 1)[0] if name.rsplit("-", 1)[-1].isdigit() else name
        runs[run] = runs.get(run, 0.0) + c["wall_s"]
    full = all(c["fraction"] == 1 for c in students.values())
    spec = ("every model at its full spec (the training steps and reflow pairs of the script's SPECS)" if full else
            "*share of spec*: the fraction of the training steps (and reflow pairs) of the script's SPECS actually run")
    if runs:
        slowest = max(runs, key=runs.get)
        spec += (f". The longest run of the script (`--only {slowest}`, all its rounds) took {runs[slowest] / 60:.1f} "
                 "min of wall time")
    else:
        spec += ". No training record in .cache/fewstep (the shipped models' cards are not read here)"
    lines += ["", "Training cost (tools/train_fewstep.py, one torch thread; the teacher from its model card, wall time "
              f"only): {spec}.", "",
              "| model | method | steps | share of spec | CPU s | wall s |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    for name, c in r["training"].items():
        cpu = "-" if c["cpu_s"] is None else f"{c['cpu_s']:.0f}"
        lines.append(f"| {name} | {c['method']} | {c['steps']} | {c['fraction']:g} | {cpu} | {c['wall_s']:.0f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
