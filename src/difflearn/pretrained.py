r"""The small models that ship inside the package, loaded with no network.

Each model `<name>` is three files in `difflearn/weights/`: `<name>.safetensors` (the
EMA weights), `<name>.json` (the constructor arguments, the noise schedule and how it
was trained) and `<name>.md` (its model card). `python -m tools.train_shipped` writes
all three.

- `digits-uncond`: unconditional ADM `UNetModel`, 8x8 digits, noise prediction
- `digits-cond`: class-conditional `UNetModel`; label 10 is the "null" class
- `digits-classifier`: noisy `EncoderUNetModel` classifier $p_\phi(y \mid x_t, t)$ for
  guidance
- `digits-features`: a small CNN trained on clean digits, the feature extractor of
  `metrics`
- `toy2d-mlp`: `ToyMLP` noise predictor for the 2-D checkerboard of `difflearn.toy`
- `glyphs-vae`: `AutoencoderKL`, 32x32x3 glyph images <-> 8x8x4 latents; its
  `scaling_factor` was measured on the training images
- `glyphs-reader`: `GlyphReader`, reads the five attributes of a glyph image (the
  judge of caption accuracy, and the features of the glyph FID)
- `glyphs-unet`: `TextConditioned` text encoder + `LatentUNet`, noise prediction on
  Stable Diffusion's scaled-linear schedule
- `glyphs-dit`: `TextConditioned` text encoder + `DiT`, a rectified-flow velocity
  (`noise_schedule` is a `FlowSchedule`)

**The null-class convention.** `digits-cond` has `num_classes=11`: labels 0-9
are the digits and label `10` (`card["null_class"]`) means "no label". It was
trained with label dropout, so `model(x, t, torch.full((B,), 10))` is the
unconditional model $\hat\varepsilon(x_t, t, \varnothing)$ of classifier-free
guidance; pass it as `unconditional_condition` to `model_wrapper`.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from .models import (
    AutoencoderKL,
    DigitsFeatures,
    EncoderUNetModel,
    GlyphReader,
    TextConditioned,
    ToyMLP,
    UNetModel,
)
from .schedules import FlowSchedule, NoiseScheduleVP, beta_schedule

WEIGHTS = Path(__file__).parent / "weights"


def list_models() -> list[str]:
    """Names of the shipped models (those with both weights and a config)."""
    return sorted(
        p.stem
        for p in WEIGHTS.glob("*.safetensors")
        if p.with_suffix(".json").is_file()
    )


# --8<-- [start:schedule_from_config]
def schedule_from_config(cfg: dict) -> NoiseScheduleVP | FlowSchedule:
    """The `NoiseScheduleVP` of a config's `"schedule"` entry, e.g.
    `{"schedule": "discrete", "beta_schedule": "linear", "num_timesteps": 1000}`, or
    the `FlowSchedule` of `{"schedule": "flow"}` (a rectified-flow model)."""
    if cfg["schedule"] == "flow":  # the straight path of a rectified flow
        return FlowSchedule()
    if cfg["schedule"] == "discrete":
        return NoiseScheduleVP(
            "discrete", betas=beta_schedule(cfg["beta_schedule"], cfg["num_timesteps"])
        )
    return NoiseScheduleVP(cfg["schedule"])


# --8<-- [end:schedule_from_config]


def build_model(cfg: dict) -> torch.nn.Module:
    """An untrained model of the class and constructor arguments of a config (tuples
    restored).
    """
    classes = {
        "UNetModel": UNetModel,
        "EncoderUNetModel": EncoderUNetModel,
        "DigitsFeatures": DigitsFeatures,
        "ToyMLP": ToyMLP,
        "AutoencoderKL": AutoencoderKL,
        "GlyphReader": GlyphReader,
        "TextConditioned": TextConditioned,
    }
    if cfg["class"] not in classes:
        raise ValueError(f"class must be one of {tuple(classes)}, got {cfg['class']!r}")
    kwargs = {
        k: tuple(v) if isinstance(v, list) else v for k, v in cfg["kwargs"].items()
    }
    return classes[cfg["class"]](**kwargs)


# --8<-- [start:load]
def load(
    name: str, device="cpu"
) -> tuple[torch.nn.Module, NoiseScheduleVP | None, dict]:
    """`(model, noise_schedule, card)` of a shipped model, in eval mode on `device`.

    `card` is the model's JSON config (constructor arguments, schedule, training
    command, steps, device, wall time, final loss). `noise_schedule` is `None`
    for `digits-features`, which sees clean images only.
    """
    available = list_models()
    if name not in available:
        raise ValueError(f"name must be one of {tuple(available)}, got {name!r}")
    card = json.loads((WEIGHTS / f"{name}.json").read_text())
    model = build_model(card)
    model.load_state_dict(load_file(str(WEIGHTS / f"{name}.safetensors")))
    ns = schedule_from_config(card["schedule"]) if card.get("schedule") else None
    return model.to(device).eval().requires_grad_(False), ns, card


# --8<-- [end:load]


# --8<-- [start:classifier_log_prob]
def classifier_log_prob(classifier: torch.nn.Module, temperature: float = 1.0):
    r"""`classifier_fn(x, t_input, y)` for `model_wrapper(guidance_type="classifier")`.

    Returns $\log\operatorname{softmax}(f_\phi(x_t, t)/\tau)_y$, the log-probability of
    class $y$ under the classifier's logits divided by the temperature $\tau$.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")

    def classifier_fn(x, t_input, y):
        logits = classifier(x, t_input) / temperature  # (B, classes)
        return F.log_softmax(logits.float(), dim=-1).gather(1, y[:, None])[:, 0]

    return classifier_fn


# --8<-- [end:classifier_log_prob]


__all__ = [
    "WEIGHTS",
    "build_model",
    "classifier_log_prob",
    "list_models",
    "load",
    "schedule_from_config",
]
