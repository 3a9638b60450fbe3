"""Train the digits UNet under four objectives with one budget, then measure digits-FID vs NFE.

    python -m tools.train_objectives                  # the full run (CPU: ~20 min of CPU time)
    python -m tools.train_objectives --quick --out /tmp/x   # a reduced run (seconds; the test)

The four objectives share everything but the loss: the shipped `digits-uncond` architecture
(tools/train_shipped.py `UNET`), the same steps, batch, learning rate, EMA and seed, the DDPM
linear-beta schedule with t uniform (eps, v, x0), or EDM's preconditioning, loss weight and
log-normal sigma. Each EMA model is then sampled with the same x_T by DDIM and by
DPM-Solver++(2M) (logSNR grid, t = 1 -> 1/N) at NFE 5, 10, 20, 50; the digits-FID
(`difflearn.metrics.digits_fid`) of 899 samples is measured against a fixed half of the real
digits, with the other half as the real-vs-real reference. A second x_T seed gives the
sampling spread of the FID. Also measured: each model's noise-prediction error per noise
level on a fixed validation batch, in the common units of eps.

Writes, atomically, `<out>/objectives-cpu.json` (every number, the machine, CPU and wall time,
the command, the commit) and `<out>/objectives-cpu.md` (the tables the site includes).
Checkpoints go to .cache/train_objectives/<name>; a rerun resumes them (`--fresh` restarts).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch

from difflearn import model_wrapper, sample
from difflearn.data import load_digits, split
from difflearn.metrics import digits_fid
from difflearn.models import UNetModel
from difflearn.pretrained import schedule_from_config
from difflearn.training import checkpoints, fit, make_batch_fn
from difflearn.training.edm import EDMDenoiser, edm_loss, edm_noise_fn, make_edm_batch_fn, sigma_data_of
from difflearn.training.parameterisations import parameterised_loss
from tools.train_shipped import DIFFUSION, SCHEDULE, UNET

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "training"
OBJECTIVES = ("eps", "v", "x0", "edm")
MODEL_TYPE = {"eps": "noise", "v": "v", "x0": "x_start"}
LABEL = {"eps": "ε-prediction", "v": "v-prediction", "x0": "x₀-prediction", "edm": "EDM (preconditioned)"}
SAMPLERS = {"DDIM": ("ddim", {}), "DPM-Solver++(2M)": ("dpmsolver++", {"order": 2})}
NFES = (5, 10, 20, 50)
STEPS = 2500
EDM_NOISE_SCALE = 1000.0  # ADM's time embedding expects inputs on the scale of 0..999


def build(objective: str, sigma_data: float):
    net = UNetModel(**UNET)
    return EDMDenoiser(net, sigma_data, EDM_NOISE_SCALE) if objective == "edm" else net


def train(objective, images, ns, config, ckpt):
    model = build(objective, sigma_data_of(images))
    if objective == "edm":
        return fit(model, edm_loss, make_edm_batch_fn(images), config, ckpt)
    loss = lambda m, b: parameterised_loss(m, ns, b, prediction=objective)  # noqa: E731
    return fit(model, loss, make_batch_fn(images, ns), config, ckpt)


def noise_fn(objective, model, ns):
    if objective == "edm":
        return edm_noise_fn(model, ns)
    return model_wrapper(model, ns, model_type=MODEL_TYPE[objective])


@torch.no_grad()
def eps_error_per_level(objective, model, ns, images, n_levels, n_images):
    """Mean squared noise-prediction error at `n_levels` times, one fixed batch (eps units)."""
    g = torch.Generator().manual_seed(123)
    dev = next(model.parameters()).device
    x0 = images[torch.randint(0, len(images), (n_images,), generator=g)]
    eps = torch.randn(x0.shape, generator=g)
    x0, eps = x0.to(dev), eps.to(dev)
    fn = noise_fn(objective, model, ns)
    out = []
    for t in torch.linspace(1.0 / ns.total_N, 1.0, n_levels, dtype=torch.float64):
        m = ns.marginals(t.reshape(1))
        a, s = float(m.alpha[0]), float(m.sigma[0])
        eps_hat = fn(a * x0 + s * eps, t.expand(n_images).float())
        out.append({"t": float(t), "lambda": float(m.lam[0]), "mse": float(((eps_hat - eps) ** 2).mean())})
    return out


def fid_table(objective, model, ns, ref, n, nfes, seeds):
    fn = noise_fn(objective, model, ns)
    dev = next(model.parameters()).device
    rows = {}
    for label, (method, kw) in SAMPLERS.items():
        rows[label] = {}
        for nfe in nfes:
            fids = []
            for seed in seeds:
                x_T = torch.randn(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed)).to(dev)
                with torch.no_grad():
                    x = sample(fn, x_T, ns, method=method, steps=nfe, skip_type="logSNR", **kw)
                fids.append(digits_fid(x.clamp(-1, 1).cpu(), ref))
            rows[label][str(nfe)] = fids
    return rows


def machine() -> str:
    if torch.cuda.is_available():  # training and sampling run there (fit picks the GPU)
        return torch.cuda.get_device_name(0)
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return cpu


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return "unknown"


def write_atomic(path: Path, text: str) -> None:
    """`text` to `path` atomically (the package's temp-file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    checkpoints.write_atomic(path, text.encode())


def markdown(rec: dict) -> str:
    nfes = rec["nfes"]
    lines = [
        f"Measured by `{rec['command']}` on {rec['machine']}, {rec['threads']} torch thread, torch "
        f"{rec['torch']}, commit {rec['commit']}. Each objective: {rec['train']['steps']} steps of batch "
        f"{rec['train']['batch_size']} (the shipped `digits-uncond` has 10 000), the same UNet, seed and "
        "optimiser. CPU time is `time.process_time()` of the Python process"
        + ("; wall time is inflated by other jobs on the machine's two shared cores." if "EPYC" in rec["machine"]
           else "."), "",
        "| objective | training loss (own units) | ε-MSE, validation | CPU s | wall s |",
        "| --- | ---: | ---: | ---: | ---: |"]
    resumed = []
    for name in rec["objectives"]:
        r = rec["runs"][name]
        mark = ""
        if r.get("resumed"):
            resumed.append(LABEL[name])
            mark = " (resumed)"
        lines.append(f"| {LABEL[name]}{mark} | {r['final_loss']:.4f} | {r['eps_mse']:.4f} | {r['cpu_s']:.0f} | "
                     f"{r['wall_s']:.0f} |")
    if resumed:
        lines += ["", f"Resumed from checkpoints of an earlier run of the same script: {', '.join(resumed)}; "
                  "their CPU and wall times count only this run's part. "
                  + rec.get("resume_note", "")]
    lines += ["", f"digits-FID of {rec['n_samples']} samples against a fixed half of the real digits "
              f"(lower is better; the other half scores **{rec['real_vs_real']:.2f}**), logSNR grid, "
              f"mean of {len(rec['seeds'])} x_T seeds (± half their difference).", "",
              "| objective | sampler | " + " | ".join(f"NFE {n}" for n in nfes) + " |",
              "| --- | --- | " + " | ".join("---:" for _ in nfes) + " |"]
    for name in rec["objectives"]:
        for label in SAMPLERS:
            cells = []
            for n in nfes:
                f = rec["runs"][name]["fid"][label][str(n)]
                mean = sum(f) / len(f)
                cells.append(f"{mean:.2f} ± {(max(f) - min(f)) / 2:.2f}" if len(f) > 1 else f"{mean:.2f}")
            lines.append(f"| {LABEL[name]} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a reduced run: a few steps, 64 samples, NFE 5")
    p.add_argument("--steps", type=int, default=None, help=f"training steps per objective (default {STEPS})")
    p.add_argument("--only", nargs="+", choices=OBJECTIVES, default=list(OBJECTIVES))
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--fresh", action="store_true", help="ignore existing checkpoints")
    p.add_argument("--markdown-only", action="store_true", help="rewrite the Markdown from the saved JSON")
    args = p.parse_args(argv)
    if args.markdown_only:
        rec = json.loads((args.out / "objectives-cpu.json").read_text())
        write_atomic(args.out / "objectives-cpu.md",
                     "<!-- generated by `python -m tools.train_objectives`; do not edit -->\n\n" + markdown(rec))
        return 0
    torch.set_num_threads(args.threads)
    steps = args.steps or (4 if args.quick else STEPS)
    config = replace(DIFFUSION, steps=steps, progress=False, checkpoint_every=0 if args.quick else 250)
    n_samples, nfes, seeds = (64, (5,), (0,)) if args.quick else (899, NFES, (0, 1))
    images, _ = load_digits(8)
    ns = schedule_from_config(SCHEDULE)
    a, b = split(len(images), 0.5, seed=0)
    ref = images[a]
    rec = {"command": "python -m tools.train_objectives" + (" --quick" if args.quick else ""),
           "machine": machine(), "threads": args.threads, "torch": torch.__version__, "commit": commit(),
           "train": asdict(config), "unet": UNET, "schedule": SCHEDULE, "nfes": list(nfes),
           "n_samples": n_samples, "seeds": list(seeds), "objectives": args.only,
           "edm": {"sigma_data": sigma_data_of(images), "p_mean": -1.2, "p_std": 1.2,
                   "noise_scale": EDM_NOISE_SCALE},
           "real_vs_real": digits_fid(images[b][:n_samples], ref), "runs": {}}
    for name in args.only:
        ckpt = None if args.quick else ROOT / ".cache" / "train_objectives" / name
        if ckpt is not None and args.fresh and ckpt.exists():
            shutil.rmtree(ckpt)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        result = train(name, images, ns, config, ckpt)
        cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
        model = result.ema.eval().requires_grad_(False)
        levels = eps_error_per_level(name, model, ns, images, 6 if args.quick else 25, 64 if args.quick else 512)
        losses = result.losses
        every = max(1, len(losses) // 100)
        rec["runs"][name] = {
            "final_loss": result.final_loss(), "cpu_s": cpu_s, "wall_s": wall_s,
            "resumed": result.wall_s > wall_s + 1.0,
            "loss_curve": [sum(losses[i:i + every]) / len(losses[i:i + every]) for i in range(0, len(losses), every)],
            "loss_curve_every": every,
            "eps_error": levels, "eps_mse": sum(x["mse"] for x in levels) / len(levels),
            "fid": fid_table(name, model, ns, ref, n_samples, nfes, seeds)}
        print(f"{name}: loss {result.final_loss():.4f}, {cpu_s:.0f} s CPU, {wall_s:.0f} s wall, "
              f"FID {rec['runs'][name]['fid']}", flush=True)
    write_atomic(args.out / "objectives-cpu.json", json.dumps(rec, indent=1) + "\n")
    write_atomic(args.out / "objectives-cpu.md",
                 "<!-- generated by `python -m tools.train_objectives`; do not edit -->\n\n" + markdown(rec))
    print(markdown(rec))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
