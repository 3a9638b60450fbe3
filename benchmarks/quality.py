"""Sample quality vs NFE on the shipped digits models: the analogue of DPM-Solver's FID table.

Run `python benchmarks/quality.py --out docs/demos/quality-cpu.md` (`--quick` for a small
version). It prints, and writes as Markdown plus a JSON record beside it:

1. digits-FID (`difflearn.metrics.digits_fid`) of 899 samples of `digits-uncond` against a
   fixed half of the real digits (898 images), at NFE 5, 6, 8, 10, 15, 20, 50, all from the
   same x_T: DDIM, DPM-Solver-2/3 (singlestep), DPM-Solver++(2M/3M), UniPC(-3), DEIS-3
   (tAB), iPNDM-3, Heun, LMS-4 and DPM++ 2S a (ancestral, eta = 1) on the `--skip-type`
   grid; the best samplers on `time_quadratic`; the grids optimised for this model and
   sampler that ship with the package (`difflearn.samplers.load_grid`, NFE 5-10,
   calibrated on other noises); and the analytic first step (AFS, the digits' mean and
   per-pixel variance), which spends NFE n on n + 1 steps. The other half of the real
   digits (899 images) against the same half is the real-vs-real reference: same sample
   sizes, same finite-sample bias. NFE is counted by wrapping the model, not assumed; Heun
   and DPM++ 2S a spend two evaluations per step, so their columns use the largest step
   count whose NFE fits.
2. Classifier guidance: DPM-Solver++(3M), logSNR steps, NFE 10, `digits-uncond` guided by
   `digits-classifier` at scales 0, 1, 2, 4, 8; the accuracy is that of `digits-features`
   (an independent classifier) on the requested labels.
3. Classifier-free guidance: `digits-cond` at scales 0 (unconditional), 1, 2, 4, 8, same solver.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from difflearn import model_wrapper, sample
from difflearn.data import load_digits, split
from difflearn.metrics import classifier_accuracy, digits_fid
from difflearn.pretrained import classifier_log_prob, load
from difflearn.samplers import analytic_first_step, list_grids, load_grid
from difflearn.schedules import time_steps

NFES = (5, 6, 8, 10, 15, 20, 50)
SCALES = (0.0, 1.0, 2.0, 4.0, 8.0)
one = lambda n: n  # noqa: E731
two = lambda n: max(1, n // 2)  # noqa: E731
# label -> (method, kwargs, steps for a target NFE); sampled on the --skip-type grid
SAMPLERS = {
    "DDIM": ("ddim", {}, one),
    "DPM-Solver-2": ("dpmsolver", {"order": 2, "solver_method": "singlestep"}, one),
    "DPM-Solver-3": ("dpmsolver", {"order": 3, "solver_method": "singlestep"}, one),
    "DPM-Solver++(2M)": ("dpmsolver++", {"order": 2}, one),
    "DPM-Solver++(3M)": ("dpmsolver++", {"order": 3}, one),
    "UniPC": ("unipc", {}, one),
    "UniPC-3": ("unipc", {"order": 3}, one),
    "DEIS-3": ("deis", {"order": 3}, one),
    "iPNDM-3": ("ipndm", {"order": 3}, one),
    "Heun": ("heun", {}, two),
    "LMS-4": ("lms", {"order": 4}, one),
    "DPM++ 2S a (eta 1)": ("dpmpp_2s_ancestral", {"eta": 1.0, "seed": 1}, two),
}
# the other grids: (label, grid) for samplers of SAMPLERS; 'optimised' = the cached grid
OTHER_GRIDS = [("UniPC", "time_quadratic"), ("UniPC-3", "time_quadratic"), ("iPNDM-3", "time_quadratic"),
               ("UniPC", "optimised"), ("UniPC-3", "optimised"), ("DPM-Solver++(2M)", "optimised"),
               ("DEIS-3", "optimised"), ("iPNDM-3", "optimised")]
AFS = [("UniPC", "time_quadratic"), ("iPNDM-3", "time_quadratic")]  # + the analytic first step


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def counted(fn):
    def wrapped(x, t):
        wrapped.calls += 1
        return fn(x, t)
    wrapped.calls = 0
    return wrapped


def run(fn, x_T, ns, method, kw, steps, skip_type, afs=None):
    """Sample with `steps` steps on the grid `skip_type` (a name, or a tensor of times);
    with `afs = (mean, var)` the first call is answered analytically. Returns the samples
    and the model calls actually made."""
    f = counted(fn)
    kw = dict(kw)
    if "seed" in kw:  # a stochastic sampler: the same noise stream for every cell
        kw["generator"] = torch.Generator().manual_seed(kw.pop("seed"))
    if torch.is_tensor(skip_type):
        grid = {"timesteps": skip_type}
    elif afs is not None:
        grid = {"timesteps": time_steps(ns, skip_type, ns.T, 1.0 / ns.total_N, steps, dtype=torch.float64)}
    else:
        grid = {"steps": steps, "skip_type": skip_type}
    model = f if afs is None else analytic_first_step(f, ns, ns.T, *afs)
    with torch.no_grad():
        x = sample(model, x_T, ns, method=method, **grid, **kw)
    return x, f.calls


def rows(skip_type):
    """(label, sampler, grid, afs) of every row of the table."""
    out = [(label, label, skip_type, False) for label in SAMPLERS]
    out += [(f"{label} ({grid})", label, grid, False) for label, grid in OTHER_GRIDS]
    out += [(f"{label} + AFS ({grid})", label, grid, True) for label, grid in AFS]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-type", default="logSNR")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="200 samples, NFE 5 and 10 only")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    start, cpu_start = time.perf_counter(), time.process_time()
    real, _ = load_digits(8)
    a, b = split(len(real), 0.5, seed=0)
    ref = real[a]                                         # every FID is measured against this half
    n, nfes = (200, (5, 10)) if args.quick else (len(b), NFES)
    model, ns, _ = load("digits-uncond")
    fn = model_wrapper(model, ns)
    g = torch.Generator().manual_seed(0)
    x_T = torch.randn(n, 1, 8, 8, generator=g)
    record = {"n": n, "skip_type": args.skip_type, "nfes": list(nfes), "fid": {}, "nfe_used": {}, "rows": {},
              "real_vs_real": digits_fid(ref, real[b])}
    cached = {(e["method"], json.dumps(e["sampler_kwargs"], sort_keys=True), e["nfe"])
              for e in list_grids("digits-uncond")}
    afs_stats = (real.mean(0), real.var(0))  # the digits' mean and per-pixel variance (1, 8, 8)
    for label, name, grid, afs in rows(args.skip_type):
        method, kw, steps_for = SAMPLERS[name]
        record["rows"][label] = {"sampler": name, "grid": grid, "afs": afs}
        record["fid"][label], record["nfe_used"][label] = [], []
        for nfe in nfes:
            g, steps = grid, steps_for(nfe) + int(afs)
            if grid == "optimised":
                if (method, json.dumps(kw, sort_keys=True), nfe) not in cached:
                    record["fid"][label].append(None)
                    record["nfe_used"][label].append(None)
                    continue
                g = load_grid("digits-uncond", method, nfe, **kw)
            x, used = run(fn, x_T, ns, method, kw, steps, g, afs_stats if afs else None)
            record["fid"][label].append(digits_fid(ref, x))
            record["nfe_used"][label].append(used)
        print(label, [f"{v:.2f}" if v is not None else "-" for v in record["fid"][label]], record["nfe_used"][label],
              flush=True)

    y = torch.arange(n) % 10
    clf, _, _ = load("digits-classifier")
    cond, _, card = load("digits-cond")
    null = torch.full_like(y, card["null_class"])
    record["classifier_guidance"], record["classifier_free"] = [], []
    for s in SCALES:
        g_fn = model_wrapper(model, ns, guidance_type="classifier", condition=y, guidance_scale=s,
                             classifier_fn=classifier_log_prob(clf))
        x, _ = run(g_fn, x_T, ns, "dpmsolver++", {"order": 3}, 10, "logSNR")
        record["classifier_guidance"].append({"scale": s, "accuracy": classifier_accuracy(x, y),
                                              "fid": digits_fid(ref, x)})
        cf_fn = model_wrapper(cond, ns, guidance_type="classifier-free", condition=y,
                              unconditional_condition=null, guidance_scale=s)
        x, _ = run(cf_fn, x_T, ns, "dpmsolver++", {"order": 3}, 10, "logSNR")
        record["classifier_free"].append({"scale": s, "accuracy": classifier_accuracy(x, y),
                                          "fid": digits_fid(ref, x)})
        print("scale", s, record["classifier_guidance"][-1], record["classifier_free"][-1], flush=True)
    record["seconds"] = round(time.perf_counter() - start, 1)
    record["cpu_seconds"] = round(time.process_time() - cpu_start, 1)
    record["device"] = f"CPU ({cpu_name()}), {args.threads} thread(s)"
    record["torch"] = torch.__version__
    text = markdown(record)
    print(text)
    if args.out:
        args.out.write_text(text)
        args.out.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n")


def markdown(r: dict) -> str:
    lines = ["<!-- generated by `python benchmarks/quality.py --out docs/demos/quality-cpu.md`; do not edit -->",
             "", f"Generated by `python benchmarks/quality.py` on {r['device']}, torch {r['torch']}, in "
             f"{r['seconds']:.0f} s ({r['cpu_seconds']:.0f} s of CPU time; the machine was shared). Each cell: "
             f"digits-FID (lower is better) of {r['n']} samples of `digits-uncond` against a fixed half of the real "
             f"digits (898 images), same $x_T$ for every cell. Reference: the other half of the real digits "
             f"({r['n']} images, the same sample size) is at **{r['real_vs_real']:.2f}** from it.", "",
             "| sampler | grid | " + " | ".join(str(n) for n in r["nfes"]) + " |",
             "| --- | --- |" + " ---: |" * len(r["nfes"])]
    for label, fids in r["fid"].items():
        row = r["rows"][label]
        if all(f is None for f in fids):
            continue  # no cached grid for that sampler
        cells = []
        for fid, target, used in zip(fids, r["nfes"], r["nfe_used"][label]):
            if fid is None:
                cells.append("—")
            else:
                cells.append(f"{fid:.2f}" if used == target else f"{fid:.2f} ({used})")
        name = row["sampler"] + (" + AFS" if row["afs"] else "")
        lines.append(f"| {name} | {row['grid']} | " + " | ".join(cells) + " |")
    lines += ["", "*optimised*: the grid shipped in `difflearn/weights/grids/digits-uncond.json` for that sampler "
              "and NFE (`load_grid`), computed by `python -m tools.optimise_grids` on other noises; — : no cached "
              "grid at that NFE. *+ AFS*: the analytic first step answers the first call, so NFE n buys n + 1 "
              "steps."]
    k5, k10, k50 = (r["nfes"].index(n) if n in r["nfes"] else None for n in (5, 10, 50))
    if k5 is not None:
        best = min((f[k5], lab) for lab, f in r["fid"].items() if f[k5] is not None
                   and r["nfe_used"][lab][k5] == 5)
        lines += ["", f"Best at NFE 5: **{best[1]}**, digits-FID **{best[0]:.2f}** (target ≤ 15)."]
    if k10 is not None and k50 is not None:
        lines += ["", "NFE 10 against the same sampler's NFE 50 on the same grid (for the optimised grids, "
                  f"which stop at NFE 10, its NFE 50 on `{r['skip_type']}`, where every grid has converged); "
                  "target: within 0.5.", "",
                  "| sampler | grid | NFE 10 | NFE 50 | difference |", "| --- | --- | ---: | ---: | ---: |"]
        for lab, row in r["rows"].items():
            f10 = r["fid"][lab][k10]
            if row["grid"] != r["skip_type"] and not row["afs"] and f10 is not None:
                f50 = r["fid"][lab][k50]
                f50 = r["fid"][row["sampler"]][k50] if f50 is None else f50
                lines.append(f"| {row['sampler']} | {row['grid']} | {f10:.2f} | {f50:.2f} | {f10 - f50:+.2f} |")
    lines += ["", "A number in parentheses is the NFE actually used, when it differs from the column.", "",
              "Guided sampling, DPM-Solver++(3M), logSNR steps, NFE 10, labels 0-9 in turn; accuracy = "
              "fraction of samples that the independent `digits-features` classifier assigns to the "
              "requested label (chance: 0.10).", "",
              "| guidance scale | classifier guidance: accuracy | FID | classifier-free: accuracy | FID |",
              "| ---: | ---: | ---: | ---: | ---: |"]
    for cg, cf in zip(r["classifier_guidance"], r["classifier_free"]):
        lines.append(f"| {cg['scale']:g} | {cg['accuracy']:.3f} | {cg['fid']:.2f} | {cf['accuracy']:.3f} | "
                     f"{cf['fid']:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
