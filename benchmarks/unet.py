"""Forward-pass throughput of the ADM UNet presets: images/s and achieved TFLOP/s.

    python benchmarks/unet.py                 # GPU: both presets, batch 16/64, all dtypes, eager+compiled
    python benchmarks/unet.py --quick             # CPU-sized run (< 1 minute)
    python benchmarks/unet.py --quick --out docs/models/benchmark-cpu.md

FLOPs per image come from `torch.utils.flop_counter` (matmuls, convolutions and
attention; 2 FLOPs per multiply-add). On GPU the time of each configuration is
measured with CUDA events over `--iters` calls after `--warmup` calls (which
also absorb `torch.compile`); on CPU with `time.perf_counter`.

dtypes: `fp32` (TF32 tensor cores allowed on GPU unless `--no-tf32`), `bf16` and
`fp16` (all weights and activations in that dtype, norms in float32), and
`fp16-torso` (guided-diffusion's own `use_fp16` scheme: torso convolutions in
float16, the rest float32).
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

from difflearn.models import count_flops, create_model, optimize, set_fast_backends

PRESETS = ("64x64_diffusion", "256x256_diffusion_uncond")


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
    return dict(preset=preset, res=res, batch=batch, dtype=dtype, mode="compiled" if compiled else "eager",
                img_s=batch / seconds, tflops=flops * batch / seconds / 1e12, gflops=flops / 1e9)


def table(rows, title: str) -> str:
    out = [title, "",
           "| preset | resolution | batch | dtype | mode | GFLOPs / image | images/s | TFLOP/s |",
           "| --- | --- | ---: | --- | --- | ---: | ---: | ---: |"]
    for r in rows:
        out.append(f"| {r['preset']} | {r['res']}x{r['res']} | {r['batch']} | {r['dtype']} | {r['mode']} | "
                   f"{r['gflops']:.1f} | {r['img_s']:.2f} | {r['tflops']:.3f} |")
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="CPU-sized: batch 1, 64x64 inputs, eager, 1+2 calls")
    p.add_argument("--presets", nargs="+", default=list(PRESETS))
    p.add_argument("--batch", nargs="+", type=int, default=[16, 64])
    p.add_argument("--dtypes", nargs="+", default=["fp32", "bf16", "fp16", "fp16-torso"])
    p.add_argument("--modes", nargs="+", default=["eager", "compiled"], choices=["eager", "compiled"])
    p.add_argument("--size", type=int, default=None, help="input resolution (default: the preset's)")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--no-channels-last", action="store_true")
    p.add_argument("--no-tf32", action="store_true")
    p.add_argument("--out", help="also write the table (with a header naming the device) to this file")
    a = p.parse_args()
    device = "cuda" if torch.cuda.is_available() and not a.quick else "cpu"
    if a.quick:
        a.batch, a.dtypes, a.modes, a.size, a.warmup, a.iters = [1], ["fp32", "bf16"], ["eager"], 64, 1, 2
    if device == "cuda":
        set_fast_backends(tf32=not a.no_tf32)
    rows = []
    for preset in a.presets:
        for batch in a.batch:
            for dtype in a.dtypes:
                for mode in a.modes:
                    row = run(preset, batch, dtype, mode == "compiled", device, not a.no_channels_last,
                              a.size, a.warmup, a.iters)
                    rows.append(row)
                    print(f"{preset} b={batch} {dtype} {mode}: {row['img_s']:.2f} img/s, "
                          f"{row['tflops']:.3f} TFLOP/s", flush=True)
    kind = "GPU" if device == "cuda" else "CPU"
    title = (f"Measured on **{device_name(device)}** ({kind}), torch {torch.__version__}, "
             f"{'TF32 on' if device == 'cuda' and not a.no_tf32 else 'no TF32'}, "
             f"{'channels-last' if not a.no_channels_last else 'contiguous'} memory, "
             f"{a.warmup} warm-up + {a.iters} timed calls.")
    text = table(rows, title)
    print(text)
    if a.out:
        note = ("These are **CPU numbers** from `python benchmarks/unet.py --quick` (batch 1, inputs "
                "at 64x64 "
                "for both presets, eager only) on a small shared build machine, so they are noisy and say "
                "nothing about GPU speed; GPU numbers are pending a run of `python benchmarks/unet.py` "
                "on a GPU.\n\n" if kind == "CPU" else "")
        with open(a.out, "w") as f:
            f.write("<!-- generated by benchmarks/unet.py; do not edit -->\n" + note + text)


if __name__ == "__main__":
    main()
