"""Flags of every released guided-diffusion checkpoint, and the models they build.

`RELEASED_FLAGS` holds the command-line flags published with the checkpoints
(guided-diffusion's README; a flag not given there has the scripts' default).
`flags_to_kwargs` turns them into constructor arguments the way the original
scripts do: the channel multipliers follow from the image size, attention
resolutions in pixels become downsampling rates, `learn_sigma` doubles the
output channels and `class_cond` means 1000 ImageNet classes. `PRESETS` is the
result: one dict of keyword arguments per checkpoint.
"""

from __future__ import annotations

import inspect

import torch
from torch import nn

from .classifier import EncoderUNetModel
from .unet import SuperResModel, UNetModel

MODELS = {
    "UNetModel": UNetModel,
    "SuperResModel": SuperResModel,
    "EncoderUNetModel": EncoderUNetModel,
}
NUM_CLASSES = 1000

# --8<-- [start:released_flags]
_ADM = dict(
    attention_resolutions="32,16,8",
    learn_sigma=True,
    num_res_blocks=2,
    resblock_updown=True,
    use_scale_shift_norm=True,
    use_fp16=True,
    noise_schedule="linear",
    diffusion_steps=1000,
    dropout=0.0,
    num_heads=4,
    num_head_channels=-1,
    use_new_attention_order=False,
)
_LSUN = dict(
    _ADM,
    class_cond=False,
    dropout=0.1,
    image_size=256,
    num_channels=256,
    num_head_channels=64,
)
_CLASSIFIER = dict(
    classifier_width=128,
    classifier_depth=2,
    classifier_attention_resolutions="32,16,8",
    classifier_use_scale_shift_norm=True,
    classifier_resblock_updown=True,
    classifier_pool="attention",
    classifier_use_fp16=False,
)

RELEASED_FLAGS = {
    "64x64_diffusion": dict(
        _ADM,
        class_cond=True,
        dropout=0.1,
        image_size=64,
        noise_schedule="cosine",
        num_channels=192,
        num_head_channels=64,
        num_res_blocks=3,
        use_new_attention_order=True,
    ),
    "128x128_diffusion": dict(
        _ADM, class_cond=True, image_size=128, num_channels=256, num_heads=4
    ),
    "256x256_diffusion": dict(
        _ADM, class_cond=True, image_size=256, num_channels=256, num_head_channels=64
    ),
    "256x256_diffusion_uncond": dict(
        _ADM, class_cond=False, image_size=256, num_channels=256, num_head_channels=64
    ),
    "512x512_diffusion": dict(
        _ADM,
        class_cond=True,
        image_size=512,
        num_channels=256,
        num_head_channels=64,
        use_fp16=False,
    ),
    "64_256_upsampler": dict(
        _ADM,
        class_cond=True,
        large_size=256,
        small_size=64,
        num_channels=192,
        num_heads=4,
    ),
    "128_512_upsampler": dict(
        _ADM,
        attention_resolutions="32,16",
        class_cond=True,
        large_size=512,
        small_size=128,
        num_channels=192,
        num_head_channels=64,
    ),
    "lsun_bedroom": _LSUN,
    "lsun_cat": _LSUN,
    "lsun_horse": _LSUN,
    "lsun_horse_nodropout": dict(_LSUN, dropout=0.0),
    "64x64_classifier": dict(_CLASSIFIER, image_size=64, classifier_depth=4),
    "128x128_classifier": dict(_CLASSIFIER, image_size=128),
    "256x256_classifier": dict(_CLASSIFIER, image_size=256),
    "512x512_classifier": dict(_CLASSIFIER, image_size=512),
}
# --8<-- [end:released_flags]

# --8<-- [start:flags_to_kwargs]
CHANNEL_MULT = {
    512: (0.5, 1, 1, 2, 2, 4, 4),
    256: (1, 1, 2, 2, 4, 4),
    128: (1, 1, 2, 3, 4),
    64: (1, 2, 3, 4),
}
SR_CHANNEL_MULT = {512: (1, 1, 2, 2, 4, 4), 256: (1, 1, 2, 2, 4, 4), 64: (1, 2, 3, 4)}


def attention_rates(resolutions: str, image_size: int) -> tuple[int, ...]:
    """Pixel resolutions `"32,16,8"` -> downsampling rates,
    e.g. `(2, 4, 8)` at 64x64.
    """
    return tuple(image_size // int(r) for r in resolutions.split(","))


def flags_to_kwargs(flags: dict) -> dict:
    """Released command-line flags -> constructor kwargs (plus `"model"`, the class
    name).
    """
    if "classifier_width" in flags:
        size = flags["image_size"]
        return dict(
            model="EncoderUNetModel",
            image_size=size,
            in_channels=3,
            model_channels=flags["classifier_width"],
            out_channels=NUM_CLASSES,
            num_res_blocks=flags["classifier_depth"],
            attention_resolutions=attention_rates(
                flags["classifier_attention_resolutions"], size
            ),
            channel_mult=CHANNEL_MULT[size],
            use_fp16=flags["classifier_use_fp16"],
            num_head_channels=64,
            use_scale_shift_norm=flags["classifier_use_scale_shift_norm"],
            resblock_updown=flags["classifier_resblock_updown"],
            pool=flags["classifier_pool"],
        )
    superres = "large_size" in flags
    size = flags["large_size"] if superres else flags["image_size"]
    kwargs = dict(
        model="SuperResModel" if superres else "UNetModel",
        image_size=size,
        in_channels=3,
        model_channels=flags["num_channels"],
        out_channels=6 if flags["learn_sigma"] else 3,
        num_res_blocks=flags["num_res_blocks"],
        attention_resolutions=attention_rates(flags["attention_resolutions"], size),
        dropout=flags["dropout"],
        channel_mult=(SR_CHANNEL_MULT if superres else CHANNEL_MULT)[size],
        num_classes=NUM_CLASSES if flags["class_cond"] else None,
        use_fp16=flags["use_fp16"],
        num_heads=flags["num_heads"],
        num_head_channels=flags["num_head_channels"],
        num_heads_upsample=-1,
        use_scale_shift_norm=flags["use_scale_shift_norm"],
        resblock_updown=flags["resblock_updown"],
    )
    if not superres:  # the super-resolution script does not pass the attention order
        kwargs["use_new_attention_order"] = flags["use_new_attention_order"]
    return kwargs


# --8<-- [end:flags_to_kwargs]


PRESETS = {name: flags_to_kwargs(flags) for name, flags in RELEASED_FLAGS.items()}


def check_preset(preset: str) -> str:
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    return preset


# --8<-- [start:create_model]
def create_model(preset: str | dict, device=None, **overrides) -> nn.Module:
    """Build the model of a preset; keyword arguments override its constructor
    arguments.

    `preset` is a name of `PRESETS` or a dict of the same form. `device="meta"`
    builds the structure without allocating weights (for counting).
    """
    if not isinstance(preset, (str, dict)):
        raise TypeError(f"preset must be a name or a dict, got {type(preset).__name__}")
    kwargs = dict(PRESETS[check_preset(preset)] if isinstance(preset, str) else preset)
    model = kwargs.pop("model", None)
    if model not in MODELS:
        raise ValueError(
            f"preset['model'] must be one of {tuple(MODELS)}, got {model!r}"
        )
    cls = MODELS[model]
    allowed = set(inspect.signature(UNetModel).parameters) | set(
        inspect.signature(cls).parameters
    )
    unknown = sorted(set(overrides) - allowed - {"args", "kwargs"})
    if unknown:
        raise ValueError(
            f"overrides must be constructor arguments of {cls.__name__}, got {unknown}"
        )
    kwargs.update(overrides)
    with torch.device(device or "cpu"):
        return cls(**kwargs)


# --8<-- [end:create_model]


def count_params(model: nn.Module) -> int:
    """Number of parameters (works on the meta device)."""
    return sum(p.numel() for p in model.parameters())


def example_inputs(
    model: nn.Module, batch: int = 1, device=None, dtype=torch.float32
) -> tuple:
    """`(args, kwargs)` of a forward call at the model's own image size."""
    device = device or next(model.parameters()).device
    C = (
        model.in_channels // 2
        if isinstance(model, SuperResModel)
        else model.in_channels
    )
    size = model.image_size
    x = torch.randn(batch, C, size, size, device=device, dtype=dtype)
    t = torch.full((batch,), 500.0, device=device)
    kwargs = {}
    if isinstance(model, SuperResModel):
        kwargs["low_res"] = torch.randn(
            batch, C, size // 4, size // 4, device=device, dtype=dtype
        )
    if getattr(model, "num_classes", None) is not None:
        kwargs["y"] = torch.zeros(batch, dtype=torch.long, device=device)
    return (x, t), kwargs


def count_flops(model: nn.Module, batch: int = 1) -> int:
    """FLOPs of one forward pass (`torch.utils.flop_counter`: matmuls, convolutions,
    attention).

    Runs on whatever device the model lives on, the meta device included.
    """
    from torch.utils.flop_counter import FlopCounterMode

    args, kwargs = example_inputs(model, batch)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(*args, **kwargs)
    return counter.get_total_flops()


def preset_table(names=None) -> list[dict]:
    """Parameters and forward GFLOPs per image of each preset,
    built on the meta device.
    """
    rows = []
    for name in names or PRESETS:
        model = create_model(name, device="meta")
        rows.append(
            dict(
                preset=name,
                model=type(model).__name__,
                image_size=model.image_size,
                params=count_params(model),
                gflops=count_flops(model) / 1e9,
            )
        )
    return rows
