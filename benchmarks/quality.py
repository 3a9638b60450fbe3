"""Sample quality vs NFE on the shipped digits models: the analogue of DPM-Solver's FID table.

Run `python benchmarks/quality.py --out docs/demos/quality-cpu.md` (`--quick` for a small
version). It prints, and writes as Markdown plus a JSON record beside it:

1. digits-FID (`difflearn.metrics.digits_fid`) of 899 samples of `digits-uncond` against a
   fixed half of the real digits (898 images), for DDIM, DPM-Solver-2/3 (singlestep),
   DPM-Solver++(2M/3M), UniPC, Heun, LMS-4 and DPM++ 2S a (ancestral, eta = 1) at NFE 5, 8,
   10, 15, 20, 50, all from the same x_T and the same `--skip-type` time grid. The other half of the real digits (899 images) against
   the same half is the real-vs-real reference: same sample sizes, same finite-sample bias.
   NFE is counted by wrapping the model, not assumed; Heun and DPM++ 2S a spend two
   evaluations per step, so their columns use the largest step count whose NFE fits.
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

NFES = (5, 8, 10, 15, 20, 50)
SCALES = (0.0, 1.0, 2.0, 4.0, 8.0)
# label -> (method, kwargs, steps for a target NFE)
SAMPLERS = {
    "DDIM": ("ddim", {}, lambda n: n),
    "DPM-Solver-2": ("dpmsolver", {"order": 2, "solver_method": "singlestep"}, lambda n: n),
    "DPM-Solver-3": ("dpmsolver", {"order": 3, "solver_method": "singlestep"}, lambda n: n),
    "DPM-Solver++(2M)": ("dpmsolver++", {"order": 2}, lambda n: n),
    "DPM-Solver++(3M)": ("dpmsolver++", {"order": 3}, lambda n: n),
    "UniPC": ("unipc", {}, lambda n: n),
    "Heun": ("heun", {}, lambda n: max(1, n // 2)),
    "LMS-4": ("lms", {"order": 4}, lambda n: n),
    "DPM++ 2S a (eta 1)": ("dpmpp_2s_ancestral", {"eta": 1.0, "seed": 1}, lambda n: max(1, n // 2)),
}


def counted(fn):
    def wrapped(x, t):
        wrapped.calls += 1
        return fn(x, t)
    wrapped.calls = 0
    return wrapped


def run(fn, x_T, ns, method, kw, steps, skip_type):
    f = counted(fn)
    kw = dict(kw)
    if "seed" in kw:  # a stochastic sampler: the same noise stream for every cell
        kw["generator"] = torch.Generator().manual_seed(kw.pop("seed"))
    with torch.no_grad():
        x = sample(f, x_T, ns, method=method, steps=steps, skip_type=skip_type, **kw)
    return x, f.calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-type", default="logSNR")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="200 samples, NFE 5 and 10 only")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    real, _ = load_digits(8)
    a, b = split(len(real), 0.5, seed=0)
    ref = real[a]                                         # every FID is measured against this half
    n, nfes = (200, (5, 10)) if args.quick else (len(b), NFES)
    model, ns, _ = load("digits-uncond")
    fn = model_wrapper(model, ns)
    g = torch.Generator().manual_seed(0)
    x_T = torch.randn(n, 1, 8, 8, generator=g)
    record = {"n": n, "skip_type": args.skip_type, "nfes": list(nfes), "fid": {}, "nfe_used": {},
              "real_vs_real": digits_fid(ref, real[b])}
    for label, (method, kw, steps_for) in SAMPLERS.items():
        record["fid"][label], record["nfe_used"][label] = [], []
        for nfe in nfes:
            x, used = run(fn, x_T, ns, method, kw, steps_for(nfe), args.skip_type)
            record["fid"][label].append(digits_fid(ref, x))
            record["nfe_used"][label].append(used)
        print(label, [f"{v:.2f}" for v in record["fid"][label]], record["nfe_used"][label], flush=True)

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
    record["device"] = f"CPU ({platform.processor() or platform.machine()}), {args.threads} thread(s)"
    record["torch"] = torch.__version__
    text = markdown(record)
    print(text)
    if args.out:
        args.out.write_text(text)
        args.out.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n")


def markdown(r: dict) -> str:
    lines = ["<!-- generated by `python benchmarks/quality.py --out docs/demos/quality-cpu.md`; do not edit -->",
             "", f"Generated by `python benchmarks/quality.py` on {r['device']}, torch {r['torch']}, in "
             f"{r['seconds']:.0f} s. Each cell: digits-FID (lower is better) of {r['n']} samples of "
             f"`digits-uncond` against a fixed half of the real digits (898 images), same $x_T$ for every "
             f"cell, `{r['skip_type']}` time steps. Reference: the other half of the real digits ({r['n']} "
             f"images, the same sample size) is at **{r['real_vs_real']:.2f}** from it.", "",
             "| sampler \\ NFE | " + " | ".join(str(n) for n in r["nfes"]) + " |",
             "| --- |" + " ---: |" * len(r["nfes"])]
    for label, fids in r["fid"].items():
        cells = []
        for fid, target, used in zip(fids, r["nfes"], r["nfe_used"][label]):
            cells.append(f"{fid:.2f}" if used == target else f"{fid:.2f} ({used})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
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
