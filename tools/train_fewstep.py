"""Train the few-step models of the "Few steps" chapter: digits and the 2-D mixture ring8.

    python -m tools.train_fewstep --only digits-pd     # one model (all its rounds)
    python -m tools.train_fewstep                      # every model, one after the other
    python -m tools.train_fewstep --quick --out DIR    # a tiny run of everything (the tests)
    python -m tools.train_fewstep --ship               # write the shipped ones to src/difflearn/weights

Teachers: `digits-uncond` (noise prediction, discrete linear schedule) for the digits, and
the exact noise prediction of the mixture `ring8` (`GaussianMixture.eps`) for the 2-D
models. Methods: progressive distillation (`-pd`, one checkpoint per round), consistency
distillation (`-cd`), improved consistency training without a teacher (`-ict`), a
rectified flow trained from scratch (`-rf1`) and reflow on its own pairs (`-rf2`).

Runs on CUDA when available, else on the CPU with one torch thread. Each model is written
to `.cache/fewstep/<name>.safetensors` (EMA weights) and `<name>.json` (its config and
training record: steps, CPU and wall seconds, machine). `--ship` copies the models listed
in SHIP into `src/difflearn/weights/` as float16 safetensors with a JSON config and a
Markdown card, loadable with `difflearn.pretrained.load`.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from difflearn import model_wrapper
from difflearn.data import load_digits, mixture_2d
from difflearn.fewstep import (
    ConsistencyDistillation,
    ConsistencyTraining,
    distill_round,
    generate_pairs,
    make_index_batch_fn,
    sigma_range,
    train_reflow,
    velocity_fn,
)
from difflearn.pretrained import WEIGHTS, build_model, load, schedule_from_config
from difflearn.samplers import flow_timesteps
from difflearn.training import TrainConfig, fit, train_flow

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "fewstep"
SCHEDULE = {"schedule": "discrete", "beta_schedule": "linear", "num_timesteps": 1000}
FLOW = {"schedule": "flow"}
UNET = load("digits-uncond")[2]["kwargs"]  # the teacher's architecture
TOY = {"dim": 2, "hidden": 128, "depth": 3, "emb_dim": 64}
RING_POINTS = 20_000  # the fixed training set of the 2-D models, drawn once with seed 0
SIGMA_MAX = 80.0  # the top noise level of the consistency models (Song et al., 2023)

DIGITS = TrainConfig(batch_size=64, lr=5e-4, warmup=50, ema_decay=0.99, log_every=50, checkpoint_every=0)
RING = TrainConfig(batch_size=256, lr=1e-3, warmup=50, ema_decay=0.995, log_every=100, checkpoint_every=0)

# name -> how it is trained. "rounds": (student steps, teacher substeps, training steps).
SPECS = {
    "digits-pd": {"data": "digits", "method": "pd", "rounds": [(16, 4, 1500), (8, 2, 1000), (4, 2, 1000),
                                                               (2, 2, 1000), (1, 2, 1000)],
                  "train": DIGITS},
    "digits-cd": {"data": "digits", "method": "cd", "steps": 4000, "levels": 18, "solver": "heun",
                  "train": replace(DIGITS, ema_decay=0.995)},
    "digits-ict": {"data": "digits", "method": "ict", "steps": 6000,
                   "train": replace(DIGITS, lr=1e-3, ema_decay=0.995)},
    "digits-rf1": {"data": "digits", "method": "rf1", "steps": 8000,
                   "train": replace(DIGITS, lr=2e-3, warmup=100, ema_decay=0.995)},
    "digits-rf2": {"data": "digits", "method": "rf2", "parent": "digits-rf1", "pairs": 8000, "pair_steps": 16,
                   "steps": 4000, "train": DIGITS},
    "ring8-pd": {"data": "ring8", "method": "pd", "rounds": [(8, 16, 2000), (4, 2, 2000), (2, 2, 2000), (1, 2, 2000)],
                 "train": RING},
    "ring8-cd": {"data": "ring8", "method": "cd", "steps": 10000, "levels": 18, "solver": "heun", "train": RING},
    "ring8-ict": {"data": "ring8", "method": "ict", "steps": 10000, "train": RING},
    "ring8-rf1": {"data": "ring8", "method": "rf1", "steps": 10000, "train": RING},
    "ring8-rf2": {"data": "ring8", "method": "rf2", "parent": "ring8-rf1", "pairs": 20000, "pair_steps": 32,
                  "steps": 4000, "train": RING},
}
# shipped in src/difflearn/weights (float16): what the pages, figures and demos load
# float16: three digits models (1.7 MB each) and four ring8 ones (0.25 MB each), 6.1 MB of the chapter's 7 MB
SHIP = {"digits-pd-2": "digits-pd", "digits-cd": "digits-cd", "digits-rf2": "digits-rf2",
        "ring8-pd-1": "ring8-pd", "ring8-cd": "ring8-cd", "ring8-rf1": "ring8-rf1", "ring8-rf2": "ring8-rf2"}
METHODS = {"pd": "progressive distillation (Salimans & Ho, 2022)",
           "cd": "consistency distillation (Song et al., 2023)",
           "ict": "improved consistency training (Song & Dhariwal, 2024)",
           "rf1": "rectified flow, trained from scratch (Liu et al., 2023)",
           "rf2": "reflow on the pairs of the 1-rectified flow (Liu et al., 2023)"}


FRACTION = [1.0]  # --fraction: the share of each spec's training steps and pairs actually run


def machine() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    return f"CPU ({platform.processor() or platform.machine()}), {torch.get_num_threads()} torch thread(s)"


def data_and_teacher(kind: str, device):
    """(training data, the teacher's noise prediction, the network class and kwargs)."""
    if kind == "digits":
        teacher, ns, _ = load("digits-uncond", device)
        images, _ = load_digits(8)
        return images, model_wrapper(teacher, ns), ns, teacher, "UNetModel", UNET
    gm = mixture_2d(kind)
    ns = schedule_from_config(SCHEDULE)
    points = gm.sample(RING_POINTS, generator=torch.Generator().manual_seed(0)).float()
    teacher_fn = model_wrapper(gm.noise_fn(ns, time_input="discrete"), ns)
    return points, lambda x, t: teacher_fn(x.double(), t.double()).to(x.dtype), ns, None, "ToyMLP", TOY


def new_model(cls: str, kwargs: dict, init=None):
    model = build_model({"class": cls, "kwargs": kwargs})
    if init is not None:
        model.load_state_dict(init.state_dict())
    return model


def record(name, spec, cls, kwargs, schedule, model_type, result, cpu_s, wall_s, extra=None) -> dict:
    return {"name": name, "class": cls, "kwargs": kwargs, "schedule": schedule, "model_type": model_type,
            "method": METHODS[spec["method"]], "data": spec["data"], "train": asdict(result["config"]),
            "steps": result["steps"], "final_loss": round(result["loss"], 6),
            "final_loss_definition": "mean training loss over the last 100 steps",
            "cpu_s": round(cpu_s, 1), "wall_s": round(wall_s, 1), "device": machine(),
            "torch_version": torch.__version__, "fraction_of_spec": FRACTION[0],
            "command": f"python -m tools.train_fewstep --only {name.split('-')[0]}-{spec['method']}"
            + (f" --fraction {FRACTION[0]}" if FRACTION[0] != 1.0 else ""),
            **(extra or {})}


def save(out: Path, name: str, model, card: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().float().cpu().contiguous() for k, v in model.state_dict().items()}
    tmp = out / f".{name}.safetensors.tmp"
    save_file(tensors, str(tmp))
    os.replace(tmp, out / f"{name}.safetensors")
    card = {**card, "params": sum(p.numel() for p in model.parameters())}
    (out / f".{name}.json.tmp").write_text(json.dumps(card, indent=2) + "\n")
    os.replace(out / f".{name}.json.tmp", out / f"{name}.json")
    print(f"{name}: {card['steps']} steps, loss {card['final_loss']}, {card['cpu_s']} s CPU, "
          f"{card['wall_s']} s wall", flush=True)


def run_fit(fn, config):
    start_cpu, start = time.process_time(), time.perf_counter()
    result = fn(config)
    return ({"config": config, "steps": result.step, "loss": result.final_loss()}, result.ema,
            time.process_time() - start_cpu, time.perf_counter() - start)


def train(name: str, spec: dict, args) -> None:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    data, teacher_fn, ns, teacher, cls, kwargs = data_and_teacher(spec["data"], device)
    fraction = 0.01 if args.quick else args.fraction
    scale = lambda n: max(2, round(n * fraction))  # noqa: E731
    config = replace(spec["train"], progress=not args.quiet)
    method = spec["method"]
    if method == "pd":
        student, fn = new_model(cls, kwargs, teacher), teacher_fn
        for steps, substeps, train_steps in spec["rounds"]:
            cfg = replace(config, steps=scale(train_steps))
            result, ema, cpu_s, wall_s = run_fit(
                lambda c, s=student, f=fn, n=steps, k=substeps: distill_round(s, f, ns, data, n, k, "v", config=c,
                                                                              device=device), cfg)
            save(args.out, f"{name}-{steps}", ema,
                 record(f"{name}-{steps}", spec, cls, kwargs, SCHEDULE, "v", result, cpu_s, wall_s,
                        {"student_steps": steps, "teacher_steps": steps * substeps, "skip_type": "time_uniform",
                         "init": "the teacher's weights (previous round's EMA)"}))
            student = copy.deepcopy(ema).train().requires_grad_(True)
            fn = model_wrapper(ema.eval(), ns, model_type="v")
        return
    cfg = replace(config, steps=scale(spec["steps"]))
    if method in ("cd", "ict"):
        sigma_min, _ = sigma_range(ns)
        if method == "cd":
            loss = ConsistencyDistillation(teacher_fn, ns, sigma_min, SIGMA_MAX, spec["levels"],
                                           teacher_solver=spec["solver"])
            student = new_model(cls, kwargs, teacher)
        else:
            loss = ConsistencyTraining(ns, cfg.steps, sigma_min, SIGMA_MAX)
            student = new_model(cls, kwargs)
        result, ema, cpu_s, wall_s = run_fit(lambda c: fit(student, loss, make_index_batch_fn(data), c, None, device),
                                             cfg)
        extra = {"sigma_min": sigma_min, "sigma_max": SIGMA_MAX, "sigma_data": 0.5,
                 "init": "the teacher's weights" if method == "cd" else "random"}
        if method == "cd":
            extra.update(levels=spec["levels"], teacher_solver=spec["solver"], target_decay=0.95)
        save(args.out, name, ema, record(name, spec, cls, kwargs, SCHEDULE, "v", result, cpu_s, wall_s, extra))
        return
    if method == "rf1":
        student = new_model(cls, kwargs)
        result, ema, cpu_s, wall_s = run_fit(lambda c: train_flow(student, data, t_sampler="logit_normal", config=c,
                                                                  device=device), cfg)
        save(args.out, name, ema, record(name, spec, cls, kwargs, FLOW, "flow", result, cpu_s, wall_s,
                                         {"t_sampler": "logit_normal", "init": "random"}))
        return
    # rf2: pairs (z, T(z)) from the parent flow, then flow matching on their straight lines
    parent = new_model(cls, kwargs)
    parent.load_state_dict(load_file(str(args.out / f"{spec['parent']}.safetensors")))
    parent = parent.to(device).eval().requires_grad_(False)
    n_pairs = scale(spec["pairs"]) * (4 if args.quick else 1)
    start_cpu, start = time.process_time(), time.perf_counter()
    noise = torch.randn((n_pairs, *data.shape[1:]), generator=torch.Generator().manual_seed(1)).to(device)
    ends = generate_pairs(velocity_fn(parent), noise, flow_timesteps(spec["pair_steps"]), "heun")
    pair_cpu, pair_wall = time.process_time() - start_cpu, time.perf_counter() - start
    student = copy.deepcopy(parent).train().requires_grad_(True)
    result, ema, cpu_s, wall_s = run_fit(lambda c: train_reflow(student, noise.cpu(), ends.cpu(), config=c,
                                                                device=device), cfg)
    save(args.out, name, ema, record(name, spec, cls, kwargs, FLOW, "flow", result, cpu_s + pair_cpu,
                                     wall_s + pair_wall,
                                     {"t_sampler": "uniform", "pairs": n_pairs,
                                      "pair_solver": f"flow_heun, {spec['pair_steps']} steps",
                                      "pairs_cpu_s": round(pair_cpu, 1), "init": f"{spec['parent']} (its weights)"}))


def ship() -> None:
    """Copy SHIP into src/difflearn/weights: float16 weights, the JSON config, a Markdown card."""
    for shipped, source in SHIP.items():
        card = json.loads((CACHE / f"{shipped}.json").read_text())
        tensors = load_file(str(CACHE / f"{shipped}.safetensors"))
        tmp = WEIGHTS / f".{shipped}.tmp"
        save_file({k: v.half() for k, v in tensors.items()}, str(tmp))
        os.replace(tmp, WEIGHTS / f"{shipped}.safetensors")
        card = {**card, "name": shipped, "stored_dtype": "float16", "kind": "fewstep"}
        (WEIGHTS / f"{shipped}.json").write_text(json.dumps(card, indent=2) + "\n")
        (WEIGHTS / f"{shipped}.md").write_text(model_card(card))
        print(f"shipped {shipped} from {source}")


def model_card(card: dict) -> str:
    what = "scikit-learn's digits" if card["data"] == "digits" else f"the 2-D Gaussian mixture `{card['data']}`"
    lines = [f"# {card['name']}", "",
             f"A `{card['class']}` trained by {card['method']} on {what}. Weights stored in float16 "
             "(loaded into a float32 model) to fit the package's size budget.", "",
             "| field | value |", "| --- | --- |", f"| command | `{card['command']}` |",
             f"| steps | {card['steps']} |", f"| output | `model_type={card['model_type']!r}` |",
             f"| device | {card['device']}, torch {card['torch_version']} |",
             f"| CPU time | {card['cpu_s']} s |",
             f"| wall time | {card['wall_s']} s (two cores shared with other jobs: wall time is inflated) |",
             f"| final loss | {card['final_loss']} (mean of the last 100 steps) |",
             f"| parameters | {card['params']:,} |", f"| schedule | `{json.dumps(card['schedule'])}` |"]
    for key in ("student_steps", "teacher_steps", "levels", "teacher_solver", "sigma_min", "sigma_max", "pairs",
                "pair_solver", "init"):
        if key in card:
            lines.append(f"| {key.replace('_', ' ')} | {card[key]} |")
    lines += ["", "Training configuration:", "", "```json", json.dumps(card["train"], indent=2), "```", "",
              f"Load with `difflearn.pretrained.load({card['name']!r})`; see the chapter \"Few steps\".", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=list(SPECS), action="append", help="train only these models")
    parser.add_argument("--quick", action="store_true", help="1/100 of the steps (tests)")
    parser.add_argument("--out", type=Path, default=CACHE, help="where the trained models go")
    parser.add_argument("--ship", action="store_true", help="copy the shipped models into the package")
    parser.add_argument("--fraction", type=float, default=1.0,
                        help="run this share of each spec's steps and pairs (time-limited runs)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args()
    if args.ship:
        return ship()
    FRACTION[0] = 0.01 if args.quick else args.fraction
    if not torch.cuda.is_available():
        torch.set_num_threads(1)
    for name in args.only or list(SPECS):
        train(name, SPECS[name], args)


if __name__ == "__main__":
    main()
