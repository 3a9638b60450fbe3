"""Editing on the shipped digits models, measured: SDEdit, inpainting, inversion under guidance, DiffEdit.

    python -m benchmarks.editing --out docs/editing/editing-cpu.md     # the committed record
    python -m benchmarks.editing --quick                               # small and fast (the tests)

One run, printed as tables and written as Markdown plus a JSON record beside it. All images are held-out digits
(the half of `load_digits` that the digits-FID reference does not use), all FIDs against the other half.

1. SDEdit (`digits-uncond`): guides are the digits at 4x4 resolution (2x2 block means, shown at 8x8), a stand-in
   for a coarse sketch. For strengths s from 0.02 to 1: RMS distance of the output to the guide and to the original
   digit (faithfulness), digits-FID and the mean confidence of `digits-features` (realism), and the fraction still
   classified as the original digit.
2. Inpainting (`digits-uncond`): the bottom half is generated. Replacement (r = 1) and RePaint resampling
   (r = 5, jump 1; and r = 5, jump 5) on the same 50-step grid, plus replacement on 250 steps (the same number of
   model calls as r = 5). Border gap: mean |x_p - x_q| over vertically adjacent pixel pairs across the mask edge
   (the real digits' value beside it); FID of the completed digits; the fraction classified as the original digit.
3. Inversion: round-trip error (DDIM inversion, then DDIM back) of `digits-uncond` against the number of steps;
   of `digits-cond` under classifier-free guidance against the scale (20 steps), with the mean relative change of
   the guided noise prediction over one step (what inversion assumes is small); and null-text inversion
   (Mokady et al., 2023) at each scale.
4. DiffEdit (`digits-cond`): masks from class A vs class B noise predictions (t = 0.5, n = 10, threshold 0.5),
   then the masked edit (DDIM encoding to t = 0.5, guided decoding, scale 3). Success = fraction classified as B;
   change outside the mask; mask area. SDEdit conditioned on B at the same strength, without a mask, for contrast.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from difflearn import model_wrapper
from difflearn.data import load_digits, split
from difflearn.editing import (
    border_gap,
    diffedit,
    diffedit_mask,
    guided_ddim,
    guided_eps,
    null_embedding,
    null_text_inversion,
    repaint,
    sdedit,
    sdedit_timesteps,
)
from difflearn.metrics import classifier_accuracy, digits_fid
from difflearn.pretrained import load
from difflearn.samplers import ddim, ddim_inversion
from difflearn.schedules import time_steps
from difflearn.training.checkpoints import write_atomic

STRENGTHS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0)
SCALES = (1.0, 2.0, 3.0, 5.0)
INVERSION_STEPS = (5, 10, 20, 50, 100)
PAIRS = ((3, 8), (1, 7), (7, 9), (5, 6))


def coarse(x: torch.Tensor) -> torch.Tensor:
    """2x2 block means, repeated back to 8x8: a blocky 4x4 sketch of each digit."""
    return F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="nearest")


def confidence(x, features) -> float:
    with torch.no_grad():
        return float(features(x.clamp(-1, 1)).softmax(-1).amax(-1).mean())


def rms(a, b) -> float:
    return float((a - b).pow(2).flatten(1).mean(1).sqrt().mean())


def grid(ns, steps, t0=1.0):
    return time_steps(ns, "time_uniform", t0, 1.0 / ns.total_N, steps, dtype=torch.float64)


def run(quick: bool) -> dict:
    real, labels = load_digits(8)
    a, b = split(len(real), 0.5, seed=0)
    ref = real[a]
    n = 64 if quick else 300
    x0, y0 = real[b][:n], labels[b][:n]
    features = load("digits-features")[0]
    uncond, ns, _ = load("digits-uncond")
    cond, _, card = load("digits-cond")
    null = card["null_class"]
    eps_u = model_wrapper(uncond, ns)
    gen = lambda seed: torch.Generator().manual_seed(seed)  # noqa: E731
    out = {"n": n, "real_fid": digits_fid(ref, x0)}

    # 1. SDEdit
    guide = coarse(x0)
    out["sdedit"] = [{"strength": 0.0, "to_guide": 0.0, "to_original": rms(guide, x0), "fid": digits_fid(ref, guide),
                      "confidence": confidence(guide, features), "kept_class": classifier_accuracy(guide, y0)}]
    for s in STRENGTHS:
        with torch.no_grad():
            x = sdedit(eps_u, guide, ns, sdedit_timesteps(ns, s, max(2, round(50 * s))), generator=gen(1))
        out["sdedit"].append({"strength": s, "to_guide": rms(x, guide), "to_original": rms(x, x0),
                              "fid": digits_fid(ref, x), "confidence": confidence(x, features),
                              "kept_class": classifier_accuracy(x, y0)})
        print("sdedit", out["sdedit"][-1], flush=True)

    # 2. inpainting: the top half is known
    mask = torch.zeros(8, 8)
    mask[:4] = 1
    out["inpainting"] = {"real_border_gap": float(border_gap(x0, mask).mean()), "rows": []}
    for label, steps, r, j in (("replacement, 50 steps", 50, 1, 1), ("replacement, 250 steps", 250, 1, 1),
                               ("RePaint r=5, jump 1, 50 steps", 50, 5, 1), ("RePaint r=5, jump 5, 50 steps", 50, 5, 5)):
        cpu = time.process_time()
        with torch.no_grad():
            x = repaint(eps_u, x0, mask, ns, grid(ns, steps), resamplings=r, jump_length=j, generator=gen(2))
        out["inpainting"]["rows"].append({
            "method": label, "model_calls": steps * r, "border_gap": float(border_gap(x, mask).mean()),
            "fid": digits_fid(ref, x), "kept_class": classifier_accuracy(x, y0),
            "error_unknown": float((x - x0)[..., 4:, :].pow(2).mean().sqrt()), "cpu_s": time.process_time() - cpu})
        print("inpainting", out["inpainting"]["rows"][-1], flush=True)

    # 3. inversion
    out["inversion_steps"] = []
    for steps in INVERSION_STEPS:
        ts = grid(ns, steps)
        with torch.no_grad():
            x_T = ddim_inversion(eps_u, x0, ns, ts.flip(0))
            back = ddim(eps_u, x_T, ns, ts)
        out["inversion_steps"].append({"steps": steps, "round_trip": rms(back, x0)})
        print("inversion", out["inversion_steps"][-1], flush=True)
    ts = grid(ns, 20)
    m = 32 if quick else 100
    xc, yc = x0[:m], y0[:m]
    nulls = [null_embedding(cond, null, m)] * 20
    out["inversion_guidance"] = []
    for w in SCALES:
        fn = lambda x, t, w=w: guided_eps(cond, ns, x, t, yc, nulls[0], w)  # noqa: E731
        changes = []

        def watch(d, changes=changes):  # the guided prediction the inversion used at this step
            m_t = ns.marginals([float(d["t"])])
            changes.append((d["x_t"] - float(m_t.alpha[0]) * d["x0_pred"]) / float(m_t.sigma[0]))

        with torch.no_grad():
            x_T = ddim_inversion(fn, xc, ns, ts.flip(0), callback=watch)
            plain = rms(guided_ddim(cond, ns, x_T, ts, yc, nulls, w), xc)
        # the inversion uses eps at the start of each step; sampling will use the one at its end
        change = sum(rms(e1, e0) / float(e0.pow(2).mean().sqrt()) for e0, e1 in zip(changes, changes[1:]))
        fixed = {}
        for lr in (1e-1, 1e-2):  # the default here, and Mokady et al.'s rate
            x_T, tuned = null_text_inversion(cond, ns, xc, ts, yc, null, w, inner_steps=10, lr=lr)
            with torch.no_grad():
                fixed[lr] = rms(guided_ddim(cond, ns, x_T, ts, yc, tuned, w), xc)
        out["inversion_guidance"].append({"scale": w, "round_trip": plain, "null_text": fixed[1e-1],
                                          "null_text_lr_1e-2": fixed[1e-2],
                                          "eps_change_per_step": change / (len(changes) - 1)})
        print("guided inversion", out["inversion_guidance"][-1], flush=True)

    # 4. DiffEdit
    out["diffedit"] = []
    k = 16 if quick else 50
    for cls_a, cls_b in PAIRS:
        xa = real[b][labels[b] == cls_a][:k]
        ya, yb = torch.full((len(xa),), cls_a), torch.full((len(xa),), cls_b)
        on = lambda y: model_wrapper(cond, ns, guidance_type="classifier-free", condition=y,  # noqa: E731
                                     unconditional_condition=torch.full_like(y, null), guidance_scale=1.0)
        mask_ab, _ = diffedit_mask(on(yb), on(ya), xa, ns, generator=gen(3))
        edit = model_wrapper(cond, ns, guidance_type="classifier-free", condition=yb,
                             unconditional_condition=torch.full_like(yb, null), guidance_scale=3.0)
        encode = on(torch.full_like(ya, null))  # the unconditional model
        with torch.no_grad():
            x = diffedit(edit, encode, xa, mask_ab, ns, grid(ns, 25, 0.5))
            plain = sdedit(edit, xa, ns, sdedit_timesteps(ns, 0.5, 25), eta=0.0, generator=gen(4))
        outside = 1 - mask_ab
        change_out = lambda z, xa=xa, o=outside: float(((z - xa).abs() * o).sum() / o.sum().clamp(min=1))  # noqa: E731
        out["diffedit"].append({"from": cls_a, "to": cls_b, "n": len(xa), "mask_area": float(mask_ab.mean()),
                                "success": classifier_accuracy(x, yb), "change_outside": change_out(x),
                                "sdedit_success": classifier_accuracy(plain, yb),
                                "sdedit_change_outside": change_out(plain)})
        print("diffedit", out["diffedit"][-1], flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="64 images, fewer steps")
    parser.add_argument("--out", type=Path, default=None, help="Markdown table (JSON beside it)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start, cpu = time.perf_counter(), time.process_time()
    record = run(args.quick)
    record.update(seconds=round(time.perf_counter() - start, 1), cpu_seconds=round(time.process_time() - cpu, 1),
                  device=f"CPU ({platform.processor() or platform.machine()}), 1 torch thread, "
                         f"{os.cpu_count()} cores shared with other jobs", torch=torch.__version__, quick=args.quick)
    text = markdown(record)
    print(text)
    if args.out:
        for path, content in ((args.out, text), (args.out.with_suffix(".json"), json.dumps(record, indent=1) + "\n")):
            write_atomic(path, content.encode())


def markdown(r: dict) -> str:
    lines = ["<!-- generated by `python -m benchmarks.editing --out docs/editing/editing-cpu.md`; do not edit -->", "",
             f"Generated by `python -m benchmarks.editing` on {r['device']}, torch {r['torch']}: "
             f"{r['cpu_seconds']:.0f} s of CPU time ({r['seconds']:.0f} s wall). {r['n']} held-out digits; "
             f"every FID against the other half of the digits (the held-out digits themselves: "
             f"{r['real_fid']:.2f}).", "", "**SDEdit** (guide: the 4x4 block means of each digit).", "",
             "| strength | RMS to guide | RMS to original | FID | confidence | still the same digit |",
             "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for s in r["sdedit"]:
        lines.append(f"| {s['strength']:g} | {s['to_guide']:.3f} | {s['to_original']:.3f} | {s['fid']:.2f} | "
                     f"{s['confidence']:.3f} | {s['kept_class']:.3f} |")
    inp = r["inpainting"]
    lines += ["", f"**Inpainting** (bottom half generated). Border gap of the real digits: "
              f"{inp['real_border_gap']:.3f}.", "",
              "| method | model calls | border gap | FID | same digit | RMS error, generated half |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for row in inp["rows"]:
        lines.append(f"| {row['method']} | {row['model_calls']} | {row['border_gap']:.3f} | {row['fid']:.2f} | "
                     f"{row['kept_class']:.3f} | {row['error_unknown']:.3f} |")
    lines += ["", "**DDIM inversion round trip** (`digits-uncond`, RMS per pixel):", "",
              "| steps | " + " | ".join(str(s["steps"]) for s in r["inversion_steps"]) + " |",
              "| --- |" + " ---: |" * len(r["inversion_steps"]),
              "| round-trip error | " + " | ".join(f"{s['round_trip']:.4f}" for s in r["inversion_steps"]) + " |",
              "", "**Under classifier-free guidance** (`digits-cond`, 20 steps):", "",
              "| guidance scale | DDIM inversion round trip | relative change of the guided prediction per step | "
              "null-text inversion round trip (10 Adam steps per step, rate 0.1) | the same at rate 0.01 |",
              "| ---: | ---: | ---: | ---: | ---: |"]
    for g in r["inversion_guidance"]:
        lines.append(f"| {g['scale']:g} | {g['round_trip']:.4f} | {g['eps_change_per_step']:.3f} | "
                     f"{g['null_text']:.4f} | {g['null_text_lr_1e-2']:.4f} |")
    lines += ["", "**DiffEdit** (`digits-cond`, class A -> class B; success = classified as B):", "",
              "| edit | images | mask area | success | mean change outside the mask | SDEdit (no mask): success | "
              "change outside |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for d in r["diffedit"]:
        lines.append(f"| {d['from']} -> {d['to']} | {d['n']} | {d['mask_area']:.2f} | {d['success']:.2f} | "
                     f"{d['change_outside']:.3f} | {d['sdedit_success']:.2f} | {d['sdedit_change_outside']:.3f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
