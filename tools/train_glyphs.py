"""The shipped latent-diffusion family on the glyph images: specs and training.

`python -m tools.train_shipped --only glyphs-vae` (and the other names below) runs
`train_one` here; `tools/train_shipped.py` writes the weights and the cards. The
order matters: the reader and the denoisers need the autoencoder's latents.

- `glyphs-vae`: the `AutoencoderKL` (32x32x3 -> 8x8x4); its card records the
  latent scaling factor measured on the training images
- `glyphs-reader`: a CNN that reads the five attributes of a clean image; the
  caption-accuracy judge and the feature map of the glyph FID
- `glyphs-unet`: text encoder + latent UNet with cross-attention, VP noise prediction
- `glyphs-dit`: text encoder + DiT, rectified-flow velocity
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

import torch

from difflearn.data import ATTRIBUTES, load_glyphs
from difflearn.pretrained import build_model
from difflearn.training import TrainConfig

ROOT = Path(__file__).resolve().parents[1]

VAE = {
    "in_channels": 3,
    "out_channels": 3,
    "block_out_channels": [16, 32, 64],
    "layers_per_block": 1,
    "latent_channels": 4,
    "norm_num_groups": 8,
    "sample_size": 32,
}
SPECS = {
    "glyphs-vae": {
        "kind": "autoencoder",
        "class": "AutoencoderKL",
        "data": "glyphs",
        "kwargs": VAE,
        "schedule": None,
        "kl_weight": 1e-6,
        "train": TrainConfig(
            steps=6000,
            batch_size=32,
            lr=1e-3,
            warmup=100,
            ema_decay=0.995,
            seed=10,
            checkpoint_every=100,
            log_every=20,
        ),
    },
    "glyphs-reader": {
        "kind": "reader",
        "class": "GlyphReader",
        "data": "glyphs",
        "kwargs": {"width": 24, "feature_dim": 128, "dropout": 0.1},
        "schedule": None,
        "train": TrainConfig(
            steps=3000,
            batch_size=64,
            lr=2e-3,
            warmup=100,
            ema_decay=0.995,
            seed=11,
            checkpoint_every=500,
        ),
    },
}

TEXT_ENCODER = {"width": 64, "layers": 2, "heads": 4}
UNET = {
    "in_channels": 4,
    "model_channels": 32,
    "channel_mult": [1, 2],
    "num_res_blocks": 1,
    "attention_levels": [1],
    "heads": 4,
    "context_dim": 64,
    "sample_size": 8,
}
DIT = {
    "in_channels": 4,
    "sample_size": 8,
    "patch_size": 2,
    "hidden": 100,
    "depth": 4,
    "heads": 4,
    "context_dim": 64,
}
SD_SCHEDULE = {"schedule": "discrete", "beta_schedule": "scaled_linear", "num_timesteps": 1000}
FLOW = {"schedule": "flow"}
DENOISER_TRAIN = TrainConfig(
    steps=5000,
    batch_size=64,
    lr=1e-3,
    warmup=200,
    ema_decay=0.999,
    seed=12,
    checkpoint_every=500,
)
SPECS["glyphs-unet"] = {
    "kind": "text-to-image",
    "class": "TextConditioned",
    "data": "glyph-latents",
    "kwargs": {"backbone": "LatentUNet", "denoiser": UNET, "text_encoder": TEXT_ENCODER},
    "schedule": SD_SCHEDULE,
    "objective": "vp",
    "caption_dropout": 0.1,
    "train": DENOISER_TRAIN,
}
SPECS["glyphs-dit"] = {
    "kind": "text-to-image",
    "class": "TextConditioned",
    "data": "glyph-latents",
    "kwargs": {"backbone": "DiT", "denoiser": DIT, "text_encoder": TEXT_ENCODER},
    "schedule": FLOW,
    "objective": "flow",
    "caption_dropout": 0.1,
    "train": DENOISER_TRAIN,  # the same seed: the same batches and noise as glyphs-unet
}

DATA = {
    "glyphs": "difflearn.data.load_glyphs('train'): 20,000 rendered 32x32 glyph images "
    "(seed 0), scored on the 2,000 of load_glyphs('test') (seed 1)",
    "glyph-latents": "the 20,000 glyph training images encoded by the shipped "
    "glyphs-vae (posterior mean times its scaling factor), with their captions",
}


LOSSES = {
    "autoencoder": "L1 reconstruction + 1e-6 KL, per pixel (difflearn.training.autoencoder)",
    "reader": "sum over the five attributes of the cross-entropy, clean images",
    "text-to-image": "noise-prediction MSE (objective vp) or rectified-flow velocity "
    "MSE (objective flow) on latents, captions dropped 10 % of the time",
}


def card_rows(card: dict) -> list[str]:
    """Extra rows of the model card's table: what was measured."""
    rows = []  # (the CPU time of training, resumes included, is in the wall-time row)
    m = card.get("measured", {})
    if "reconstruction" in m:
        r = m["reconstruction"]
        rows.append(
            f"| reconstruction (test, {r['images']} images) | L1 {r['l1']}, MSE "
            f"{r['mse']} on [-1, 1]; PSNR {r['psnr_db']} dB; compression "
            f"{r['compression']:g}x |"
        )
        rows.append(
            f"| latent scaling factor | {m['scaling_factor']:.4f} = 1 / std of the "
            f"latents ({m['scaling_factor_images']}) |"
        )
    if "caption_accuracy" in m:
        acc = ", ".join(f"{k} {v:.3f}" for k, v in m["caption_accuracy"].items())
        rows.append(f"| caption accuracy | {acc} ({m['setting']}) |")
        if "glyph_kid" in m:
            rows.append(
                f"| glyph KID | {m['glyph_kid']} against as many other real test images "
                f"({m['glyph_kid_reference']}) |"
            )
        rows.append(
            f"| glyph FID | {m['glyph_fid']} against as many other real test images "
            f"({m['glyph_fid_reference']}; at this size the FID is mostly its own bias, "
            "read the KID) |"
        )
    if "objective" in card:
        rows.append(
            f"| objective | {card['objective']}, caption dropout "
            f"{card['caption_dropout']} |"
        )
    for split, acc in m.get("accuracy", {}).items():
        items = ", ".join(f"{k} {v:.3f}" for k, v in acc.items())
        rows.append(f"| accuracy ({split.replace('_', ' ')}) | {items} |")
    return rows


def _cpu_seconds(ckpt: Path, seconds: float | None = None) -> float:
    """CPU time of the run so far, kept beside its checkpoints (resumes add up)."""
    path = ckpt / "cpu_time.json"
    before = json.loads(path.read_text())["cpu_s"] if path.is_file() else 0.0
    if seconds is not None:
        ckpt.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"cpu_s": before + seconds}))
        return before + seconds
    return before


@torch.no_grad()
def measure_autoencoder(vae, n: int = 2000) -> dict:
    """Reconstruction error on the test split and the latent scaling factor."""
    from difflearn.latent import latent_scaling_factor, reconstruction_error

    vae = vae.cpu().eval()
    test = load_glyphs("test", n).images
    train = load_glyphs("train", n).images
    err = reconstruction_error(vae, test)
    scale = latent_scaling_factor(vae, train, generator=torch.Generator().manual_seed(0))
    return {
        "reconstruction": err,
        "scaling_factor": scale,
        "scaling_factor_images": f"the first {n} training images, one posterior sample",
    }


def blur(x: torch.Tensor) -> torch.Tensor:
    """A 3x3 binomial blur ([1, 2, 1] / 4 along each axis) of `(B, 3, H, W)` images."""
    k = torch.tensor([1.0, 2.0, 1.0], dtype=x.dtype)
    k = (k[:, None] * k[None, :] / 16).expand(3, 1, 3, 3)
    return torch.nn.functional.conv2d(
        torch.nn.functional.pad(x, (1, 1, 1, 1), mode="replicate"), k, groups=3
    )


def reader_batch_fn(data):
    """Clean training images, half of them blurred (decoded samples are softer)."""
    labels = torch.stack([data.attributes[k] for k in ATTRIBUTES], 1)  # (n, 5)

    def batch(generator, n):
        idx = torch.randint(0, len(data), (n,), generator=generator)
        x = data.images[idx]
        soft = torch.rand(n, generator=generator) < 0.5
        x = torch.where(soft[:, None, None, None], blur(x), x)
        return {"x": x, "y": labels[idx]}

    return batch


def reader_loss(model, batch):
    """Sum over the five attributes of the cross-entropy of their heads."""
    logits = model(batch["x"])
    return sum(
        torch.nn.functional.cross_entropy(logits[k], batch["y"][:, i])
        for i, k in enumerate(ATTRIBUTES)
    )


@torch.no_grad()
def measure_reader(reader) -> dict:
    """Per-attribute accuracy on the test split, and on its reconstructions by the
    shipped autoencoder (the best a latent model's samples could score)."""
    from difflearn import pretrained
    from difflearn.glyph_metrics import attribute_accuracy

    reader = reader.cpu().eval()
    test = load_glyphs("test")
    out = {"test": attribute_accuracy(test.images, test.attributes, reader)}
    if "glyphs-vae" in pretrained.list_models():
        vae = pretrained.load("glyphs-vae")[0]
        rec = torch.cat([vae(x)[0].clamp(-1, 1) for x in test.images.split(500)])
        out["test_reconstructed"] = attribute_accuracy(rec, test.attributes, reader)
    return out


def training_latents(vae, n: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled latents `(n, 4, 8, 8)` and caption tokens `(n, 16)` of the training
    split (all 20,000 images by default)."""
    import hashlib
    import os

    from difflearn.data import tokenize
    from difflearn.latent import encode_latents

    state = b"".join(v.cpu().numpy().tobytes() for v in vae.state_dict().values())
    key = hashlib.sha256(state + str(vae.scaling_factor).encode()).hexdigest()[:16]
    cache = ROOT / ".cache" / "glyph-latents" / f"{key}-{n or 'all'}.pt"
    train = load_glyphs("train", n)
    tokens = tokenize(list(train.captions))
    if cache.is_file():  # the same autoencoder encoded these images before
        return torch.load(cache, weights_only=True), tokens
    latents = encode_latents(vae, train.images)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".{os.getpid()}.tmp")
    torch.save(latents, tmp)
    os.replace(tmp, cache)
    return latents, tokens


@torch.no_grad()
def measure_text_to_image(model, schedule, n=500, steps=20, guidance_scale=3.0):
    """Caption accuracy, glyph KID and glyph FID of `n` samples for the first `n` test
    images' complete captions; the distances are to the next `n` test images (sample i
    shares its caption with test image i, and paired sets bias them downwards)."""
    from difflearn import pretrained
    from difflearn.data import make_caption
    from difflearn.glyph_metrics import attribute_accuracy, glyph_fid, glyph_kid
    from difflearn.pipeline import text_to_image

    vae, reader = pretrained.load("glyphs-vae")[0], pretrained.load("glyphs-reader")[0]
    model = model.cpu().eval()
    test = load_glyphs("test")
    attrs = {k: v[:n] for k, v in test.attributes.items()}
    prompts = [make_caption({k: int(v[i]) for k, v in attrs.items()}) for i in range(n)]
    x = text_to_image(prompts, vae, model, schedule, steps, guidance_scale)
    return {
        "setting": f"{n} samples, {steps} steps of the default sampler, guidance "
        f"scale {guidance_scale}, complete captions of the first {n} test images",
        "caption_accuracy": attribute_accuracy(x, attrs, reader),
        "glyph_kid": round(glyph_kid(x, test.images[n : 2 * n], reader), 5),
        "glyph_kid_reference": "KID between the first and the next "
        f"{n} real test images: "
        f"{glyph_kid(test.images[n : 2 * n], test.images[:n], reader):.5f}",
        "glyph_fid": round(glyph_fid(x, test.images[n : 2 * n], reader), 3),
        "glyph_fid_reference": "FID between the first and the next "
        f"{n} real test images: "
        f"{glyph_fid(test.images[n : 2 * n], test.images[:n], reader):.3f}",
    }


def train_one(
    name: str, spec: dict, config: TrainConfig, fresh: bool, ckpt_root: Path | None = None
) -> dict:
    """Train one model of the family; returns what `train_shipped.write` needs.

    Checkpoints go to `ckpt_root / name` (default .cache/train/<name>).
    """
    from difflearn.training.autoencoder import train_autoencoder

    ckpt = (ckpt_root or ROOT / ".cache" / "train") / name
    if fresh and ckpt.exists():
        shutil.rmtree(ckpt)
    model = build_model(spec)
    images = load_glyphs("train").images
    cpu0 = time.process_time()
    if spec["kind"] == "autoencoder":
        result = train_autoencoder(
            model, images, spec["kl_weight"], config, checkpoint_dir=ckpt
        )
        cpu = _cpu_seconds(ckpt, time.process_time() - cpu0)
        measured = measure_autoencoder(result.ema)
        kwargs = {**spec["kwargs"], "scaling_factor": measured["scaling_factor"]}
        result.ema.scaling_factor = measured["scaling_factor"]
        return {
            "result": result,
            "config": config,
            "kwargs": kwargs,
            "cpu_time_s": round(cpu, 1),
            "kl_weight": spec["kl_weight"],
            "measured": measured,
        }
    if spec["kind"] == "reader":
        from difflearn.training import fit

        result = fit(
            model, reader_loss, reader_batch_fn(load_glyphs("train")), config, ckpt
        )
        cpu = _cpu_seconds(ckpt, time.process_time() - cpu0)
        return {
            "result": result,
            "config": config,
            "cpu_time_s": round(cpu, 1),
            "measured": {"accuracy": measure_reader(result.ema)},
        }
    if spec["kind"] == "text-to-image":
        from difflearn import pretrained

        latents, tokens = training_latents(pretrained.load("glyphs-vae")[0])
        result = train_denoiser(model, spec, config, ckpt, latents, tokens)
        cpu = _cpu_seconds(ckpt, time.process_time() - cpu0)
        return {
            "result": result,
            "config": config,
            "cpu_time_s": round(cpu, 1),
            "objective": spec["objective"],
            "caption_dropout": spec["caption_dropout"],
            "measured": measure_text_to_image(result.ema, schedule_of(spec)),
        }
    raise ValueError(f"unknown kind {spec['kind']!r}")


def train_denoiser(model, spec, config, ckpt, latents, tokens):
    """Train a `TextConditioned` model of a text-to-image spec on latents and tokens."""
    from difflearn.training.text_to_image import train_text_to_image

    schedule = schedule_of(spec)
    return train_text_to_image(
        model,
        latents,
        tokens,
        spec["objective"],
        None if spec["objective"] == "flow" else schedule,
        spec["caption_dropout"],
        config,
        ckpt,
    )


def schedule_of(spec: dict):
    """The `NoiseScheduleVP` or `FlowSchedule` of a spec."""
    from difflearn import FlowSchedule
    from difflearn.pretrained import schedule_from_config

    if spec["schedule"]["schedule"] == "flow":
        return FlowSchedule()
    return schedule_from_config(spec["schedule"])


__all__ = ["DATA", "LOSSES", "SPECS", "card_rows", "train_one", "replace"]
