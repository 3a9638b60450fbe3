"""Train the models shipped in src/difflearn/weights/ and write their weights, config and card.

    python -m tools.train_shipped --only digits-uncond      # one model
    python -m tools.train_shipped                           # all of them, one after the other
    torchrun --nproc_per_node 2 -m tools.train_shipped --only digits-cond   # several GPUs

Runs on CUDA when available, else on the CPU with `--threads` threads. Every run is
seeded; checkpoints go to .cache/train/<name> and a rerun resumes from them
(`--fresh` starts over). Each model gets `<name>.safetensors` (EMA weights),
`<name>.json` (config + training record) and `<name>.md` (model card).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch
import torch.nn.functional as F

from difflearn.data import checkerboard, load_digits, split
from difflearn.pretrained import WEIGHTS, build_model, schedule_from_config
from difflearn.training import TrainConfig, train_classifier, train_diffusion
from tools import train_glyphs

ROOT = Path(__file__).resolve().parents[1]

SIZE = 8  # native resolution: see difflearn.data for why not 16x16 here
SCHEDULE = {"schedule": "discrete", "beta_schedule": "linear", "num_timesteps": 1000}
UNET = {"image_size": 8, "in_channels": 1, "model_channels": 32, "out_channels": 1, "num_res_blocks": 1,
        "attention_resolutions": [2], "channel_mult": [1, 1, 2], "num_head_channels": 32,
        "use_scale_shift_norm": True, "dropout": 0.0}
ENCODER = {**{k: v for k, v in UNET.items() if k != "out_channels"}, "out_channels": 10, "pool": "adaptive"}
TOY_POINTS = 20_000  # toy2d-mlp's fixed training set, drawn once with the seed
DIFFUSION = TrainConfig(steps=10000, batch_size=64, lr=2e-3, warmup=100, ema_decay=0.995, seed=0,
                        checkpoint_every=250)

SPECS = {
    "digits-uncond": {"kind": "diffusion", "class": "UNetModel", "kwargs": UNET, "schedule": SCHEDULE,
                      "train": DIFFUSION},
    "digits-cond": {"kind": "diffusion", "class": "UNetModel", "kwargs": {**UNET, "num_classes": 11},
                    "schedule": SCHEDULE, "train": replace(DIFFUSION, seed=1), "label_dropout": 0.2,
                    "null_class": 10},
    "digits-classifier": {"kind": "classifier", "class": "EncoderUNetModel", "kwargs": ENCODER,
                          "schedule": SCHEDULE,
                          "train": TrainConfig(steps=2000, batch_size=64, lr=1e-3, warmup=100, ema_decay=0.995,
                                               seed=2, checkpoint_every=250)},
    "toy2d-mlp": {"kind": "diffusion", "class": "ToyMLP", "data": "checkerboard",
                  "kwargs": {"dim": 2, "hidden": 128, "depth": 3, "emb_dim": 64}, "schedule": SCHEDULE,
                  "train": TrainConfig(steps=8000, batch_size=512, lr=1e-3, warmup=200, ema_decay=0.998, seed=0,
                                       log_every=100, checkpoint_every=1000)},
    "digits-features": {"kind": "features", "class": "DigitsFeatures",
                        "kwargs": {"image_size": 8, "in_channels": 1, "width": 32, "feature_dim": 64,
                                   "num_classes": 10, "dropout": 0.2},
                        "schedule": None,
                        "train": TrainConfig(steps=1500, batch_size=64, lr=2e-3, warmup=50, ema_decay=0.99,
                                             seed=3, checkpoint_every=500)},
    **train_glyphs.SPECS,
}


DATA = {"digits": f"difflearn.data.load_digits(size={SIZE}): the 1,797 sklearn digits, {SIZE}x{SIZE}, in [-1, 1]",
        "checkerboard": f"difflearn.data.checkerboard: {TOY_POINTS:,} points drawn once with the run's seed",
        **train_glyphs.DATA}


def features_batch(images, labels):
    """Clean-image batches with a small random shift (+-1 pixel) as augmentation."""
    def batch(generator, n):
        idx = torch.randint(0, len(images), (n,), generator=generator)
        x = F.pad(images[idx], (1, 1, 1, 1), value=-1.0)
        dx, dy = (int(v) for v in torch.randint(0, 3, (2,), generator=generator))
        return {"x": x[..., dy:dy + images.shape[-2], dx:dx + images.shape[-1]], "y": labels[idx]}
    return batch


def train_one(name: str, spec: dict, args) -> dict:
    from difflearn.training import fit

    config = replace(spec["train"], steps=args.steps or spec["train"].steps, progress=not args.quiet)
    if spec.get("data") in train_glyphs.DATA:  # the latent-diffusion family: its own module
        return train_glyphs.train_one(name, spec, config, args.fresh)
    torch.manual_seed(config.seed)  # the initial weights are part of the recipe
    model = build_model(spec)
    if spec.get("data") == "checkerboard":
        images = checkerboard(TOY_POINTS, generator=torch.Generator().manual_seed(spec["train"].seed)).float()
        labels = None
    else:
        images, labels = load_digits(SIZE)
    ckpt = ROOT / ".cache" / "train" / name
    if args.fresh and ckpt.exists():
        shutil.rmtree(ckpt)
    extra = {}
    if spec["kind"] == "diffusion":
        ns = schedule_from_config(spec["schedule"])
        cond = "num_classes" in spec["kwargs"]
        result = train_diffusion(model, images, ns, labels=labels if cond else None,
                                 label_dropout=spec.get("label_dropout", 0.0), null_class=spec.get("null_class"),
                                 config=config, checkpoint_dir=ckpt)
    elif spec["kind"] == "classifier":
        result = train_classifier(model, images, labels, schedule_from_config(spec["schedule"]), config,
                                  checkpoint_dir=ckpt)
    else:
        train_idx, test_idx = split(len(images), 0.8, seed=0)
        loss = lambda m, b: F.cross_entropy(m(b["x"]), b["y"])
        result = fit(model, loss, features_batch(images[train_idx], labels[train_idx]), config, ckpt)
        with torch.no_grad():
            ema = result.ema.eval()
            pred = ema(images[test_idx].to(next(ema.parameters()).device)).argmax(-1).cpu()
        extra["test_accuracy"] = float((pred == labels[test_idx]).double().mean())
        extra["split"] = "80/20 random split of the 1,797 digits, data.split(n, 0.8, seed=0)"
    return {"result": result, "config": config, **extra}


def write(name: str, spec: dict, out: dict, args, seconds: float, cpu_seconds: float) -> None:
    from safetensors.torch import save_file

    result, config = out["result"], out["config"]
    device = result.device
    cpu = platform.processor() or platform.machine()
    dev_name = torch.cuda.get_device_name() if device.startswith("cuda") else f"CPU ({cpu})"
    card = {"name": name, "class": spec["class"], "kwargs": out.get("kwargs", spec["kwargs"]),
            "schedule": spec["schedule"],
            "kind": spec["kind"], "null_class": spec.get("null_class"),
            "label_dropout": spec.get("label_dropout", 0.0),
            "data": DATA[spec.get("data", "digits")],
            "train": asdict(config), "steps": result.step, "final_loss": round(result.final_loss(), 5),
            "final_loss_definition": "mean training loss over the last 100 steps",
            "device": dev_name, "torch_threads": torch.get_num_threads() if device == "cpu" else None,
            "world_size": result.world_size, "wall_time_s": round(result.wall_s, 1),
            "cpu_time_s": round(cpu_seconds, 1),
            "torch_version": torch.__version__,
            "command": f"python -m tools.train_shipped --only {name}",
            "params": sum(p.numel() for p in result.ema.parameters())}
    card.update({k: v for k, v in out.items() if k not in ("result", "config", "kwargs")})
    tensors = {k: v.detach().cpu().contiguous() for k, v in result.ema.state_dict().items()}
    WEIGHTS.mkdir(exist_ok=True)
    # each file is written under a temporary name, then moved into place
    tmp = WEIGHTS / f".{name}.safetensors.tmp"
    save_file(tensors, str(tmp))
    os.replace(tmp, WEIGHTS / f"{name}.safetensors")
    for suffix, text in ((".json", json.dumps(card, indent=2) + "\n"), (".md", model_card(card))):
        tmp = WEIGHTS / f".{name}{suffix}.tmp"
        tmp.write_text(text)
        os.replace(tmp, WEIGHTS / f"{name}{suffix}")
    print(f"{name}: {result.step} steps, final loss {card['final_loss']}, {card['wall_time_s']} s on {dev_name}")


def model_card(card: dict) -> str:
    loss = {"diffusion": "noise-prediction MSE (Ho et al., 2020, Eq. 14)",
            "classifier": "cross-entropy of the noisy classifier at random t",
            "features": "cross-entropy on clean digits",
            **train_glyphs.LOSSES}[card["kind"]]
    threads = card["torch_threads"] or 1
    cpu_note = (f"Trained on the CPU, with {'one torch thread' if threads == 1 else f'{threads} torch threads'} "
                "on two cores shared with other jobs: no GPU was "
                "available when it was trained. The same command uses a GPU when there is one."
                if card["device"].startswith("CPU") else "")
    what = "2-D checkerboard points" if card["class"] == "ToyMLP" else "scikit-learn's digits"
    what = "the glyph images of `difflearn.data.load_glyphs`" if card["data"] in train_glyphs.DATA.values() else what
    lines = [f"# {card['name']}", "", f"A `{card['class']}` trained on {what}. {cpu_note}", "",
             "| field | value |", "| --- | --- |",
             f"| command | `{card['command']}` |", f"| steps | {card['steps']} |",
             f"| batch size | {card['train']['batch_size']} x {card['world_size']} process(es) |",
             f"| device | {card['device']}, torch threads: {card['torch_threads'] or '-'}, torch {card['torch_version']} |",
             f"| wall time | {card['wall_time_s']} s (CPU time of this process: {card.get('cpu_time_s', '-')} s; "
             "wall time grows when the cores are shared) |", f"| loss | {loss} |",
             f"| final loss | {card['final_loss']} (mean of the last 100 steps) |",
             f"| parameters | {card['params']:,} |", f"| data | {card['data']} |"]
    if card.get("schedule"):
        lines.append(f"| schedule | `{json.dumps(card['schedule'])}` |")
    if card.get("null_class") is not None:
        lines.append(f"| null class | label {card['null_class']} = no label; label dropout "
                     f"{card['label_dropout']} (classifier-free guidance) |")
    if "test_accuracy" in card:
        lines.append(f"| held-out accuracy | {card['test_accuracy']:.4f} ({card['split']}) |")
    lines += train_glyphs.card_rows(card)
    if card["kind"] == "diffusion" and card["class"] == "UNetModel":
        lines += ["", "Known limitation: a small model trained for minutes. At NFE 10 about one sample in fifty "
                  "has a few saturated stroke pixels that overshoot to |x| of 2-3; clamp samples to [-1, 1] "
                  "before display or evaluation (`difflearn.metrics` does)."]
    lines += ["", "Model configuration (constructor keyword arguments):", "", "```json",
              json.dumps(card["kwargs"], indent=2), "```", "", "Training configuration:", "", "```json",
              json.dumps(card["train"], indent=2), "```", "",
              "Weights are the EMA weights, stored as safetensors. Load with "
              f"`difflearn.pretrained.load({card['name']!r})`.", ""]
    return "\n".join(lines)


def remeasure(name: str) -> None:
    """Measure a shipped text-to-image model again (the samples, caption accuracy, KID
    and FID of its card) and rewrite its card; the weights are not touched."""
    from difflearn.pretrained import load
    from difflearn.training.checkpoints import write_atomic

    spec = SPECS[name]
    if spec["kind"] != "text-to-image":
        raise SystemExit(f"--remeasure measures the text-to-image models only, not {name!r}")
    card = json.loads((WEIGHTS / f"{name}.json").read_text())
    card["measured"] = train_glyphs.measure_text_to_image(load(name)[0], train_glyphs.schedule_of(spec))
    write_atomic(WEIGHTS / f"{name}.json", (json.dumps(card, indent=2) + "\n").encode())
    write_atomic(WEIGHTS / f"{name}.md", model_card(card).encode())
    print(f"{name}: measured again, {card['measured']['caption_accuracy']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=list(SPECS), action="append", help="train only these models")
    parser.add_argument("--steps", type=int, default=None, help="override the number of steps (tests)")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads without a GPU (1: several threads on shared cores were much slower)")
    parser.add_argument("--fresh", action="store_true", help="ignore existing checkpoints")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--remeasure", action="store_true",
                        help="train nothing: measure the shipped text-to-image models again and rewrite their cards")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        torch.set_num_threads(args.threads)
    if args.remeasure:
        for name in args.only or [n for n, s in SPECS.items() if s["kind"] == "text-to-image"]:
            remeasure(name)
        return
    for name in args.only or list(SPECS):
        start, cpu_start = time.perf_counter(), time.process_time()
        out = train_one(name, SPECS[name], args)
        import torch.distributed as dist
        if not dist.is_initialized() or dist.get_rank() == 0:
            write(name, SPECS[name], out, args, time.perf_counter() - start, time.process_time() - cpu_start)


if __name__ == "__main__":
    main()
