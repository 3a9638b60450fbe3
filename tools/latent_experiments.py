"""UNet vs DiT (vs MMDiT), VP noise prediction vs rectified flow, guidance scale: the
latent text-to-image experiments, with their results written to docs/modern/results/.

    python -m tools.latent_experiments                      # train what is missing, measure all
    python -m tools.latent_experiments --train-only --variants dit-vp   # (one process each)
    python -m tools.latent_experiments --only grid --variants dit-vp    # measure one variant
    python -m tools.latent_experiments --only guidance      # one part
    python -m tools.latent_experiments --merge-only         # assemble the parts into the tables
    python -m tools.latent_experiments --quick --out /tmp/x # tiny version (the test)

Each part and variant is written to docs/modern/results/parts/ as it finishes, so
several processes can work at once; every run then merges the parts it finds into
latent-experiments.json and the Markdown tables.

Every variant is the same recipe as the shipped models (tools/train_glyphs.py: the same
latents, captions, caption dropout, steps, batch size, learning rate and seed, so the
same batches and the same noise draws), changing one thing: the backbone or the
objective. The two variants that *are* shipped (`unet-vp` = glyphs-unet and `dit-flow`
= glyphs-dit) are loaded from the package rather than retrained; the others are trained
into .cache/experiments/<variant> (a rerun resumes). All runs use one torch thread.

Parts:
- `grid`: quality vs NFE for every variant and sampler (glyph FID and caption accuracy
  of N samples for the complete captions of the first N test images, guidance 3), plus
  parameters, FLOPs, CPU time per sampling step and the training CPU time;
- `guidance`: caption accuracy and FID of the shipped models vs the guidance scale.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import torch

from difflearn import FlowSchedule, model_wrapper, pretrained, sample
from difflearn.data import load_glyphs, make_caption, tokenize
from difflearn.glyph_metrics import attribute_accuracy, glyph_fid, glyph_kid
from difflearn.latent import decode_latents
from difflearn.pipeline import guided
from difflearn.pretrained import build_model
from difflearn.samplers import flow_euler, flow_heun, flow_timesteps
from difflearn.training.checkpoints import write_atomic
from tools import train_glyphs as tg

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "modern" / "results"
CACHE = Path(os.environ.get("DIFFLEARN_EXPERIMENTS_CACHE", ROOT / ".cache" / "experiments"))
MMDIT = {**tg.DIT, "hidden": 84}  # about the parameters of the UNet (joint attention)
VARIANTS = {  # name -> (shipped model or None, spec)
    "unet-vp": ("glyphs-unet", tg.SPECS["glyphs-unet"]),
    "unet-flow": (None, {**tg.SPECS["glyphs-unet"], "objective": "flow", "schedule": tg.FLOW}),
    "dit-vp": (None, {**tg.SPECS["glyphs-dit"], "objective": "vp", "schedule": tg.SD_SCHEDULE}),
    "dit-flow": ("glyphs-dit", tg.SPECS["glyphs-dit"]),
    "mmdit-flow": (None, {**tg.SPECS["glyphs-dit"],
                          "kwargs": {**tg.SPECS["glyphs-dit"]["kwargs"], "backbone": "MMDiT", "denoiser": MMDIT}}),
    # the latents as the autoencoder gives them, without the scaling factor
    "dit-vp-unscaled": (None, {**tg.SPECS["glyphs-dit"], "objective": "vp", "schedule": tg.SD_SCHEDULE,
                               "unscaled": True}),
}
NFES = (2, 4, 8, 16, 32)
SCALES = (0.0, 1.0, 2.0, 3.0, 4.5, 6.0, 9.0)


def samplers(objective: str) -> dict:
    """label -> fn(model_out, z_T, nfe) -> z_0 for an objective; `model_out(z, t_input)`
    is the guided network output."""
    if objective == "vp":
        ns = tg.schedule_of(tg.SPECS["glyphs-unet"])
        eps = lambda f: model_wrapper(f, ns, model_type="noise")  # noqa: E731
        return {
            "DDIM": lambda f, z, n: sample(eps(f), z, ns, method="ddim", steps=n),
            "DPM-Solver++(2M)": lambda f, z, n: sample(eps(f), z, ns, method="dpmsolver++", steps=n, order=2),
        }
    flow = FlowSchedule()
    vel = lambda f: (lambda z, t: f(z, 1000 * t))  # noqa: E731
    eps = lambda f: model_wrapper(f, flow, model_type="flow")  # noqa: E731
    return {
        "Euler": lambda f, z, n: flow_euler(vel(f), z, flow_timesteps(n)),
        "Heun": lambda f, z, n: flow_heun(vel(f), z, flow_timesteps(max(1, n // 2))),
        "DPM-Solver++(2M)": lambda f, z, n: sample(eps(f), z, flow, method="dpmsolver++", steps=n, order=2,
                                                   t_start=0.999),
    }


def counted(fn):
    """`fn` that counts its calls (the NFE of the guided model)."""
    def wrapped(*a):
        wrapped.calls += 1
        return fn(*a)
    wrapped.calls = 0
    return wrapped


def load_variant(name: str, steps: int | None, quiet: bool) -> tuple[torch.nn.Module, dict]:
    """The trained model of a variant, and a record of its training."""
    shipped, spec = VARIANTS[name]
    if shipped and steps is None and shipped in pretrained.list_models():
        model, _, card = pretrained.load(shipped)
        return model, {"trained": f"shipped as {shipped}", "cpu_time_s": card.get("cpu_time_s"),
                       "final_loss": card["final_loss"], "steps": card["steps"], "device": card["device"]}
    config = replace(spec["train"], steps=steps or spec["train"].steps, progress=not quiet)
    ckpt = CACHE / (name if steps is None else f"{name}-{steps}")
    vae = pretrained.load("glyphs-vae")[0]
    latents, tokens = tg.training_latents(vae, None if steps is None else 512)
    if spec.get("unscaled"):
        latents = latents / vae.scaling_factor
    model = build_model(spec)
    cpu0 = time.process_time()
    result = tg.train_denoiser(model, spec, config, ckpt, latents, tokens)
    cpu = tg._cpu_seconds(ckpt, time.process_time() - cpu0)
    return result.ema.cpu().eval(), {"trained": f"here, into {ckpt.name}", "cpu_time_s": round(cpu, 1),
                                     "final_loss": round(result.final_loss(), 5), "steps": result.step,
                                     "device": "CPU" if result.device == "cpu" else result.device}


def prompts_and_attributes(n: int):
    test = load_glyphs("test")
    attrs = {k: v[:n] for k, v in test.attributes.items()}
    prompts = [make_caption({k: int(v[i]) for k, v in attrs.items()}) for i in range(n)]
    return prompts, attrs, test.images


def cost(model) -> dict:
    """Parameters, forward FLOPs per sample, and CPU seconds per sampling step (batch 1000,
    guidance: two forward passes of 500 in one call)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    z, t = torch.randn(500, 4, 8, 8), torch.full((500,), 500.0)
    ctx = model.text_encoder(tokenize(["a red 3"] * 500))
    # the math attention kernel, whose matrix products the counter sees on a CPU
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as fc:
        model.denoiser(z[:1], t[:1], ctx[:1])
    fn = guided(model.denoiser, ctx, ctx, 3.0)
    with torch.no_grad():
        fn(z, t)
        t0 = time.process_time()
        for _ in range(3):
            fn(z, t)
    return {"params": sum(p.numel() for p in model.denoiser.parameters()),
            "params_text_encoder": sum(p.numel() for p in model.text_encoder.parameters()),
            "mflops_per_forward": round(fc.get_total_flops() / 1e6, 2),
            "cpu_s_per_step_500_guided": round((time.process_time() - t0) / 3, 3)}


@torch.no_grad()
def evaluate(model, objective, n, nfes, scale, vae, reader, seed=0, unscaled=False) -> dict:
    prompts, attrs, real = prompts_and_attributes(n)
    others = real[n:2 * n]  # the reference set: n other real test images
    p = next(model.parameters())
    ctx = model.text_encoder(tokenize(prompts).to(p.device))
    null = model.text_encoder(tokenize([""] * n).to(p.device))
    z_T = torch.randn(n, 4, 8, 8, generator=torch.Generator().manual_seed(seed))
    out = {}
    for label, run in samplers(objective).items():
        rows = []
        for nfe in nfes:
            f = counted(guided(model.denoiser, ctx, null, scale))
            z_0 = run(f, z_T.clone(), nfe)
            x = decode_latents(vae, z_0 * vae.scaling_factor if unscaled else z_0)
            acc = attribute_accuracy(x, attrs, reader)
            # against the *next* n test images: sample i shares its caption with test image i,
            # and paired sets bias both distances downwards
            rows.append({"nfe": f.calls, "fid": round(glyph_fid(x, others, reader), 3),
                         "kid": round(glyph_kid(x, others, reader), 5), "caption_all": acc["all"],
                         "accuracy": acc})
        out[label] = rows
    return out


def part_grid(args, vae, reader) -> dict:
    results = {}
    for name in args.variants:
        model, record = load_variant(name, args.steps, args.quiet)
        objective = VARIANTS[name][1]["objective"]
        record.update(cost(model))
        record["objective"], record["backbone"] = objective, VARIANTS[name][1]["kwargs"]["backbone"]
        record["quality"] = evaluate(model, objective, args.n, args.nfes, 3.0, vae, reader,
                                     unscaled=VARIANTS[name][1].get("unscaled", False))
        results[name] = record
        print(name, json.dumps({k: v for k, v in record.items() if k != "quality"}))
    return results


def part_guidance(args, vae, reader) -> dict:
    out = {}
    for name in ("unet-vp", "dit-flow"):
        model, _ = load_variant(name, args.steps, args.quiet)
        objective = VARIANTS[name][1]["objective"]
        label = "DPM-Solver++(2M)" if objective == "vp" else "Euler"
        rows = []
        for s in args.scales:
            r = evaluate(model, objective, args.n, (20,), s, vae, reader)[label][0]
            rows.append({"scale": s, **r})
            print(name, s, r["fid"], r["accuracy"])
        out[name] = {"sampler": f"{label}, 20 steps", "rows": rows}
    return out


def reference(args, vae, reader) -> dict:
    """What real images score against the same reference set as the samples (the test
    images n..2n): real test images 0..n, and their reconstructions by the autoencoder."""
    n = args.n
    prompts, attrs, real = prompts_and_attributes(n)
    others = real[n:2 * n]
    rec = torch.cat([vae(x)[0].clamp(-1, 1) for x in real[:n].split(500)])
    return {"real_vs_real_fid": round(glyph_fid(real[:n], others, reader), 3),
            "reconstructed_vs_real_fid": round(glyph_fid(rec, others, reader), 3),
            "real_vs_real_kid": round(glyph_kid(real[:n], others, reader), 5),
            "reconstructed_vs_real_kid": round(glyph_kid(rec, others, reader), 5),
            "real_accuracy": attribute_accuracy(real[:n], {k: v[:n] for k, v in attrs.items()}, reader),
            "reconstructed_accuracy": attribute_accuracy(rec, {k: v[:n] for k, v in attrs.items()}, reader)}


def _cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine() -> dict:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = None
    return {"cpu": _cpu_name(), "cores": os.cpu_count(), "torch": torch.__version__,
            "threads": torch.get_num_threads(), "commit": commit, "date": time.strftime("%Y-%m-%d"),
            "note": "CPU times are per process; wall times can be inflated by other jobs on the machine"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("grid", "guidance"), action="append")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--n", type=int, default=1000, help="samples per measurement")
    parser.add_argument("--quick", action="store_true", help="tiny: 20 training steps, 16 samples, two NFEs")
    parser.add_argument("--train-only", action="store_true", help="train the variants, measure nothing")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (CPU times add them up)")
    parser.add_argument("--merge-only", action="store_true", help="only assemble the parts written so far")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if not 2 <= args.n <= 1000:
        parser.error(f"--n must lie in [2, 1000] (the 2,000 test images give the prompts and a "
                     f"disjoint reference set), got {args.n}")
    args.steps, args.nfes, args.scales = None, NFES, SCALES
    if args.quick:
        args.steps, args.n, args.nfes, args.scales = 20, 16, (2, 4), (0.0, 3.0)
        args.variants = args.variants[:2] if args.variants == list(VARIANTS) else args.variants
    if args.train_only:
        for name in args.variants:
            load_variant(name, args.steps, args.quiet)
        return
    vae, reader = pretrained.load("glyphs-vae")[0], pretrained.load("glyphs-reader")[0]
    parts = args.out / "parts"  # one file per part and variant: runs can go in parallel
    parts.mkdir(parents=True, exist_ok=True)
    for part in () if args.merge_only else args.only or ("grid", "guidance"):
        t0, c0 = time.perf_counter(), time.process_time()
        if part == "grid":
            for name in args.variants:
                args_one = argparse.Namespace(**{**vars(args), "variants": [name]})
                _write_json(parts / f"grid-{name}.json", part_grid(args_one, vae, reader)[name])
        else:
            _write_json(parts / "guidance.json", part_guidance(args, vae, reader))
        print(f"{part}: {time.perf_counter() - t0:.0f} s wall, {time.process_time() - c0:.0f} s CPU")
    merge(args, vae, reader)


def _write_json(path: Path, data) -> None:
    write_atomic(path, (json.dumps(data, indent=1) + "\n").encode())


def merge(args, vae, reader) -> None:
    """Assemble the parts into latent-experiments.json and write the tables."""
    from tools import latent_tables

    parts = args.out / "parts"
    grid = {name: json.loads((parts / f"grid-{name}.json").read_text())
            for name in VARIANTS if (parts / f"grid-{name}.json").is_file()}
    record = {"machine": machine(), "n": args.n, "quick": args.quick, "reference": reference(args, vae, reader),
              "grid": grid}
    if (parts / "guidance.json").is_file():
        record["guidance"] = json.loads((parts / "guidance.json").read_text())
    _write_json(args.out / "latent-experiments.json", record)
    latent_tables.write_tables(record, args.out)
    print(f"wrote {args.out / 'latent-experiments.json'}")


if __name__ == "__main__":
    main()
