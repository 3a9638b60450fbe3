"""Forward-pass throughput of the ADM UNet presets: images/s and achieved TFLOP/s.

    python benchmarks/unet.py --out docs/models/benchmark.md   # GPU: both presets, batch 16/64,
                                                               # all dtypes, eager, bf16/fp16 compiled
    python benchmarks/unet.py --quick --out docs/models/benchmark.md   # CPU-sized run (< 1 minute)

    # a GPU run in two calls of under 10 minutes each, then one table:
    python benchmarks/unet.py --presets 64x64_diffusion --json /tmp/a.json
    python benchmarks/unet.py --presets 256x256_diffusion_uncond --json /tmp/b.json
    python benchmarks/unet.py --from-json /tmp/a.json /tmp/b.json --out docs/models/benchmark.md

FLOPs per image come from `torch.utils.flop_counter` (matmuls, convolutions and
attention; 2 FLOPs per multiply-add). On GPU the time of each configuration is
measured with CUDA events over `--iters` calls after `--warmup` calls (which
also absorb `torch.compile`); on CPU with `time.perf_counter`.

dtypes: `fp32` (TF32 tensor cores allowed on GPU unless `--no-tf32`), `bf16` and
`fp16` (all weights and activations in that dtype, norms in float32), and
`fp16-torso` (guided-diffusion's own `use_fp16` scheme: torso convolutions in
float16, the rest float32).

Every (preset, batch) also gets a **baseline** row, measured in the same run on the same
device: guided-diffusion's own recipe (`use_fp16` torso on a GPU, einsum attention with a
float32 softmax, contiguous memory, eager), the configuration behind the published reference
(661 img/s and 87 img/s at batch 64 on an H200). The `x baseline` column is each row's
speed-up over it; the issue's target is 2x.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import time

import torch

from difflearn.models import count_flops, create_model, optimize, set_attention_backend, set_fast_backends

PRESETS = ("64x64_diffusion", "256x256_diffusion_uncond")
BASELINE = "baseline"
# guided-diffusion's own code in its fp16 mode, batch 64, on an H200 (the reference)
REFERENCE_H200 = {"64x64_diffusion": 661.0, "256x256_diffusion_uncond": 87.0}


def device_name(device: str) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or platform.machine()
    return f"{model} ({torch.get_num_threads()} threads)"


def build(preset: str, dtype: str, channels_last: bool, compiled: bool, device: str, size: int | None):
    over = {"image_size": size} if size else {}
    model = create_model(preset, device=device, use_fp16=False, **over).eval()
    if dtype == BASELINE:  # guided-diffusion's recipe: fp16 torso (GPU only), einsum attention, contiguous, eager
        model = model.convert_to_fp16() if device == "cuda" else model
        return set_attention_backend(model, "einsum"), torch.float32
    if dtype == "fp16-torso":
        model = optimize(model, "fp32", channels_last=channels_last).convert_to_fp16()
        model = torch.compile(model) if compiled else model
        return model, torch.float32
    model = optimize(model, dtype, channels_last=channels_last, compile=compiled)
    return model, {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[dtype]


def time_forward(model, args, kwargs, warmup: int, iters: int, device: str) -> float:
    """Seconds per forward call."""
    with torch.inference_mode():
        for _ in range(warmup):
            model(*args, **kwargs)
        if device == "cuda":
            torch.cuda.synchronize()
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(iters):
                model(*args, **kwargs)
            end.record()
            torch.cuda.synchronize()
            return start.elapsed_time(end) / 1000 / iters
        t0 = time.perf_counter()
        for _ in range(iters):
            model(*args, **kwargs)
        return (time.perf_counter() - t0) / iters


def run(preset, batch, dtype, compiled, device, channels_last, size, warmup, iters):
    if dtype == BASELINE:
        compiled, channels_last = False, False
    model, x_dtype = build(preset, dtype, channels_last, compiled, device, size)
    res = size or create_model(preset, device="meta").image_size
    flops = count_flops(create_model(preset, device="meta", image_size=res))  # per image
    g = torch.Generator(device=device).manual_seed(0)
    x = torch.randn(batch, 3, res, res, device=device, generator=g).to(x_dtype)
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    t = torch.randint(0, 1000, (batch,), device=device, generator=g).float()
    kwargs = {}
    if "uncond" not in preset:
        kwargs["y"] = torch.randint(0, 1000, (batch,), device=device, generator=g)
    seconds = time_forward(model, (x, t), kwargs, warmup, iters, device)
    del model
    if device == "cuda":
        torch.cuda.empty_cache()
    return dict(preset=preset, res=res, batch=batch, dtype=dtype, mode="compiled" if compiled else "eager",
                memory="channels-last" if channels_last else "contiguous",
                img_s=batch / seconds, tflops=flops * batch / seconds / 1e12, gflops=flops / 1e9)


def table(rows, title: str) -> str:
    out = [title, "",
           "| preset | resolution | batch | dtype | memory | mode | GFLOPs / image | images/s | TFLOP/s | x baseline |",
           "| --- | --- | ---: | --- | --- | --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        dtype = "baseline (guided-diffusion recipe)" if r["dtype"] == BASELINE else r["dtype"]
        out.append(f"| {r['preset']} | {r['res']}x{r['res']} | {r['batch']} | {dtype} | {r['memory']} | {r['mode']} | "
                   f"{r['gflops']:.1f} | {r['img_s']:.2f} | {r['tflops']:.3f} | {r['speedup']:.2f} |")
    return "\n".join(out) + "\n"


def best_against_reference(rows) -> str:
    """The fastest configuration per preset at batch 64 against the published H200 numbers."""
    lines = []
    for preset, ref in REFERENCE_H200.items():
        cand = [r for r in rows if r["preset"] == preset and r["batch"] == 64 and r["dtype"] != BASELINE
                and r["res"] == create_model(preset, device="meta").image_size]
        if cand:
            b = max(cand, key=lambda r: r["img_s"])
            lines.append(f"- {preset}, batch 64: best {b['img_s']:.1f} img/s ({b['dtype']}, {b['mode']}), "
                         f"{b['speedup']:.2f}x this run's baseline, {b['img_s'] / ref:.2f}x the published "
                         f"{ref:.0f} img/s of guided-diffusion on an H200")
    return "\n".join(lines) + ("\n" if lines else "")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="CPU-sized: batch 1, 64x64 inputs, eager, 1+2 calls")
    p.add_argument("--presets", nargs="+", default=list(PRESETS))
    p.add_argument("--batch", nargs="+", type=int, default=[16, 64])
    p.add_argument("--dtypes", nargs="+", default=["fp32", "bf16", "fp16", "fp16-torso"])
    p.add_argument("--modes", nargs="+", default=["eager", "compiled"], choices=["eager", "compiled"])
    p.add_argument("--compiled-dtypes", nargs="+", default=["bf16", "fp16"],
                   help="dtypes that also run compiled (each compile takes about a minute on a GPU)")
    p.add_argument("--size", type=int, default=None, help="input resolution (default: the preset's)")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--channels-last", action="store_true",
                   help="channels-last activations (slower on an H200 in eager mode: see docs/models/benchmark.md)")
    p.add_argument("--no-tf32", action="store_true")
    p.add_argument("--out", help="also write the table (with a header naming the device) to this file")
    p.add_argument("--json", help="also save the rows here (to split a long GPU run into several calls)")
    p.add_argument("--from-json", nargs="+", metavar="JSON",
                   help="measure nothing: join the rows saved by earlier --json runs into one table")
    a = p.parse_args()
    if a.from_json:
        return write_saved(a.from_json, a.out)
    device = "cuda" if torch.cuda.is_available() and not a.quick else "cpu"
    if a.quick:
        a.batch, a.dtypes, a.modes, a.size, a.warmup, a.iters = [1], ["fp32", "bf16"], ["eager"], 64, 1, 2
    if device == "cuda":
        set_fast_backends(tf32=not a.no_tf32)
    rows = []
    for preset in a.presets:
        for batch in a.batch:
            configs = [(BASELINE, "eager")] + [(d, m) for d in a.dtypes for m in a.modes
                                               if m == "eager" or d in a.compiled_dtypes]
            base = None
            for dtype, mode in configs:
                row = run(preset, batch, dtype, mode == "compiled", device, a.channels_last,
                          a.size, a.warmup, a.iters)
                base = base or row["img_s"]
                row["speedup"] = row["img_s"] / base
                rows.append(row)
                print(f"{preset} b={batch} {dtype} {mode}: {row['img_s']:.2f} img/s, "
                      f"{row['tflops']:.3f} TFLOP/s, {row['speedup']:.2f}x baseline", flush=True)
    kind = "GPU" if device == "cuda" else "CPU"
    title = (f"Measured on **{device_name(device)}** ({kind}), torch {torch.__version__}, "
             f"{'TF32 on' if device == 'cuda' and not a.no_tf32 else 'no TF32'}, "
             f"{a.warmup} warm-up + {a.iters} timed calls.")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"title": title, "kind": kind, "rows": rows}, f, indent=1)
    write(rows, title, kind, a.out)


MEMORY_IN_TITLE = re.compile(r" ?(channels-last|contiguous) memory \(the baseline: contiguous\),")


def write_saved(paths, out):
    """One table of the rows of several --json runs on one device; baseline rows measured more
    than once (same preset and batch) are kept once, the first, and every row's speed-up is
    taken against that one."""
    saved = [json.load(open(p)) for p in paths]
    for s in saved:  # runs saved before rows named their memory format: the title did
        m = MEMORY_IN_TITLE.search(s["title"])
        for r in s["rows"]:
            r.setdefault("memory", "contiguous" if r["dtype"] == BASELINE or not m else m.group(1))
        s["title"] = MEMORY_IN_TITLE.sub("", s["title"])
    kinds, titles = {s["kind"] for s in saved}, {s["title"] for s in saved}
    if len(kinds) != 1 or len(titles) != 1:
        raise SystemExit(f"--from-json: the runs differ in device or settings: {sorted(titles)}")
    rows, base = [], {}
    for r in (r for s in saved for r in s["rows"]):
        key = (r["preset"], r["batch"], r["res"])
        if r["dtype"] == BASELINE:
            if key in base:
                continue
            base[key] = r["img_s"]
        rows.append(r)
    for r in rows:
        r["speedup"] = r["img_s"] / base[(r["preset"], r["batch"], r["res"])]
    rows.sort(key=lambda r: (PRESETS.index(r["preset"]) if r["preset"] in PRESETS else 99, r["batch"],
                             r["dtype"] != BASELINE))
    write(rows, titles.pop(), kinds.pop(), out)


def write(rows, title, kind, out):
    text = table(rows, title)
    if kind == "GPU":
        text += "\n" + best_against_reference(rows)
    print(text)
    if out:
        note = ("These are **CPU numbers** from `python benchmarks/unet.py --quick` (batch 1, inputs "
                "at 64x64 "
                "for both presets, eager only) on a small shared build machine, so they are noisy and say "
                "nothing about GPU speed: float16 and bfloat16 convolutions have no fast CPU kernels. GPU "
                "numbers are pending a run of `python benchmarks/unet.py --out docs/models/benchmark.md` "
                "on a GPU.\n\n" if kind == "CPU" else "")
        with open(out, "w") as f:
            f.write("<!-- generated by benchmarks/unet.py; do not edit -->\n" + note + text)


if __name__ == "__main__":
    main()
