"""Load released guided-diffusion checkpoints, safely, with or without a preset.

`load_checkpoint` reads `.pt` files with `torch.load(weights_only=True)` (a
file that would need to unpickle code is refused) and `.safetensors` files.
Without a preset it reads the architecture off the keys and shapes
(`infer_config`). The flags that leave no trace in the weights (number of
heads, head order, dropout) are taken from the released preset of the same
structure. A checkpoint that does not fit raises an error listing the missing,
unexpected and mis-shaped keys and naming the flag that is most likely wrong.
"""

from __future__ import annotations

import pickle
import re
import warnings
from pathlib import Path

import torch
from torch import nn

from .presets import PRESETS, check_preset, create_model

SUFFIXES = (".pt", ".pth", ".bin", ".safetensors")
# constructor argument -> the command-line flag of guided-diffusion that sets it
FLAG_NAMES = {
    "model": "model type (diffusion / upsampler / classifier)",
    "in_channels": "in_channels",
    "model_channels": "num_channels (classifier_width)",
    "out_channels": "learn_sigma",
    "num_res_blocks": "num_res_blocks (classifier_depth)",
    "channel_mult": "image_size (it sets channel_mult)",
    "attention_resolutions": "attention_resolutions",
    "num_classes": "class_cond",
    "use_scale_shift_norm": "use_scale_shift_norm",
    "resblock_updown": "resblock_updown",
    "conv_resample": "conv_resample",
    "pool": "classifier_pool",
    "image_size": "image_size",
}
WRAPPERS = ("state_dict", "model", "ema", "model_state_dict")  # {'model': sd, ...}
HEADS = (
    "num_heads",
    "num_head_channels",
    "num_heads_upsample",
    "use_new_attention_order",
)
HIDDEN = (
    "image_size",
    "dropout",
    "num_heads",
    "num_head_channels",
    "num_heads_upsample",
    "use_new_attention_order",
    "use_fp16",
)


def _unwrap(sd, path, key):
    """The state dict inside a `{'model' | 'state_dict' | 'ema': ...}` wrapper."""
    if key is not None:
        if not (isinstance(sd, dict) and isinstance(sd.get(key), dict)):
            have = sorted(sd) if isinstance(sd, dict) else type(sd).__name__
            raise ValueError(f"key={key!r} is not a dict in {path}; it has {have}")
        return sd[key]
    if isinstance(sd, dict) and not all(
        isinstance(v, torch.Tensor) for v in sd.values()
    ):
        inner = [k for k in WRAPPERS if isinstance(sd.get(k), dict)]
        if len(inner) == 1:
            return sd[inner[0]]
        if len(inner) > 1:
            raise ValueError(
                f"{path} wraps several state dicts {inner}: pass key= to choose one "
                "(e.g. key='ema' for the averaged weights)"
            )
    return sd


def read_state_dict(path, key: str | None = None) -> dict[str, torch.Tensor]:
    """Tensors of a `.pt`/`.pth`/`.bin` (weights only) or `.safetensors` file.

    A wrapper `{'model' | 'state_dict' | 'ema' | 'model_state_dict': state_dict, ...}`
    is opened (`key` picks one when there are several). Every error names the file.
    """
    path = Path(path)
    if path.suffix not in SUFFIXES:
        raise ValueError(
            f"path suffix must be one of {SUFFIXES}, got {path.suffix!r} ({path})"
        )
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    if path.stat().st_size == 0:
        raise ValueError(f"cannot read checkpoint {path}: the file is empty")
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except (SafetensorError, OSError, ValueError) as err:
            raise ValueError(
                f"cannot read checkpoint {path} as safetensors (truncated, or not a "
                f"safetensors file): {err}"
            ) from err
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        found = re.findall(r"GLOBAL ([\w.]+)", str(err))
        what = f" ({', '.join(sorted(set(found)))})" if found else ""
        raise ValueError(
            f"refusing to load {path}: it holds pickled objects other than tensors"
            f"{what}, and unpickling them could run code. Save the state dict alone "
            "(torch.save(model.state_dict(), ...)) or as safetensors where the file "
            "came from"
        ) from err
    except (RuntimeError, EOFError, KeyError, OSError, ValueError) as err:
        raise ValueError(
            f"cannot read checkpoint {path}: not a complete PyTorch file "
            f"(truncated, or text?): {type(err).__name__}: {err}"
        ) from err
    sd = _unwrap(sd, path, key)
    if not isinstance(sd, dict) or not all(
        isinstance(v, torch.Tensor) for v in sd.values()
    ):
        keys = f" with keys {sorted(map(str, sd))[:8]}" if isinstance(sd, dict) else ""
        raise ValueError(
            f"{path} must hold a dict of tensors (a state dict, or one wrapped as "
            f"{{'model' | 'state_dict' | 'ema': ...}}), got {type(sd).__name__}{keys}"
        )
    return sd


def _block(sd, prefix: str, i: int) -> set[str]:
    head = f"{prefix}.{i}."
    return {k[len(head) :] for k in sd if k.startswith(head)}


# --8<-- [start:infer_config]
def infer_config(sd: dict[str, torch.Tensor]) -> dict:
    """Constructor kwargs (and `"model"`) read off the keys and shapes of a state dict.

    Also returns `"matching_presets"`: the released presets of the same structure,
    from which the flags that leave no trace in the weights (heads, head order,
    dropout) are taken. A state dict that lacks a key the structure is read from raises
    a `ValueError` naming it.
    """
    try:
        return _infer_config(sd)
    except (KeyError, IndexError, StopIteration) as err:
        raise ValueError(
            f"cannot read the architecture off the state dict: key {err} is missing "
            f"or malformed; it has {len(sd)} keys, e.g. {sorted(sd)[:6]}"
        ) from err


def _infer_config(sd: dict[str, torch.Tensor]) -> dict:
    if "time_embed.0.weight" not in sd or "input_blocks.0.0.weight" not in sd:
        raise ValueError(
            "state dict must be an ADM UNet's or classifier's "
            "(keys time_embed.0.weight and input_blocks.0.0.weight), "
            f"got keys {sorted(sd)[:5]}..."
        )
    model_channels = sd["time_embed.0.weight"].shape[1]
    in_channels = sd["input_blocks.0.0.weight"].shape[1]
    n_in = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("input_blocks."))
    # what each input block is: res, down (a strided conv) or pool (no weights)
    kinds = []
    for i in range(1, n_in):
        sub = _block(sd, "input_blocks", i)
        kinds.append(
            "down"
            if "0.op.weight" in sub
            else "res"
            if "0.in_layers.0.weight" in sub
            else "pool"
        )
    plain_down = [i for i, kind in enumerate(kinds, 1) if kind != "res"]
    cfg = dict(
        in_channels=in_channels,
        model_channels=model_channels,
        conv_resample="pool" not in kinds,
        dims=sd["input_blocks.0.0.weight"].ndim - 2,
        resblock_updown=not plain_down,
        use_scale_shift_norm=sd["middle_block.0.emb_layers.1.weight"].shape[0]
        == 2 * sd["middle_block.0.out_layers.3.weight"].shape[0],
    )
    if "output_blocks.0.0.in_layers.0.weight" in sd:  # a full UNet
        out_channels = sd["out.2.weight"].shape[0]
        superres = in_channels == 6 and out_channels in (3, 6)
        cfg.update(
            model="SuperResModel" if superres else "UNetModel",
            out_channels=out_channels,
            in_channels=in_channels // 2 if superres else in_channels,
            num_classes=sd["label_emb.weight"].shape[0]
            if "label_emb.weight" in sd
            else None,
        )
    else:  # the encoder of a classifier
        cfg.update(model="EncoderUNetModel", **_pool_head(sd))
    # blocks per level: up to the first plain downsampler,
    # or else every depth the count allows
    depths = (
        [plain_down[0] - 1]
        if plain_down
        else [d for d in range(1, n_in) if n_in % (d + 1) == 0]
    )
    tokens_side = cfg.pop(
        "tokens_side", None
    )  # attention pool: the last feature map is side x side
    for depth in depths:
        candidate = dict(cfg, **_levels(sd, n_in, depth, model_channels))
        if tokens_side is not None:
            candidate["image_size"] = tokens_side * 2 ** (
                len(candidate["channel_mult"]) - 1
            )
        candidate = _fill_hidden(candidate)
        probe = create_model(
            {k: v for k, v in candidate.items() if k != "matching_presets"},
            device="meta",
        )
        if not any(_mismatch_report(sd, probe)):
            return candidate
    raise ValueError(
        "could not infer a configuration that fits the state dict "
        f"(tried num_res_blocks in {depths}); pass a preset"
    )


# --8<-- [end:infer_config]


def _levels(sd, n_in: int, depth: int, model_channels: int) -> dict:
    """channel_mult and attention rates, if every level has `depth` ResBlocks and a
    downsampler.
    """
    channel_mult, attention = [], []
    for level in range(n_in // (depth + 1)):
        first = 1 + level * (depth + 1)  # first ResBlock of the level
        width = sd[f"input_blocks.{first}.0.out_layers.3.weight"].shape[0]
        m = width / model_channels
        channel_mult.append(int(m) if m == int(m) else m)
        if "1.qkv.weight" in _block(sd, "input_blocks", first):
            attention.append(2**level)
    return dict(
        num_res_blocks=depth,
        channel_mult=tuple(channel_mult),
        attention_resolutions=tuple(attention),
    )


def _pool_head(sd) -> dict:
    if "out.2.positional_embedding" in sd:
        tokens = sd["out.2.positional_embedding"].shape[1] - 1
        return dict(
            pool="attention",
            out_channels=sd["out.2.c_proj.weight"].shape[0],
            tokens_side=round(tokens**0.5),
        )
    if "out.3.weight" in sd and sd["out.3.weight"].ndim > 2:
        return dict(pool="adaptive", out_channels=sd["out.3.weight"].shape[0])
    if "out.3.weight" in sd:
        return dict(pool="spatial_v2", out_channels=sd["out.3.weight"].shape[0])
    return dict(pool="spatial", out_channels=sd["out.2.weight"].shape[0])


def structure(cfg: dict) -> dict:
    """The arguments that decide keys and shapes (what a state dict can tell)."""
    keep = set(FLAG_NAMES) - {"image_size"} | (
        {"image_size"} if cfg.get("pool") == "attention" else set()
    )
    out = {k: cfg.get(k) for k in sorted(keep)}
    out.setdefault("conv_resample", True)
    levels = [2**i for i in range(len(cfg["channel_mult"]))]
    out["attention_resolutions"] = tuple(
        sorted(r for r in set(cfg["attention_resolutions"]) if r in levels)
    )
    out["pool"] = cfg.get("pool")
    if out["resblock_updown"]:
        out["conv_resample"] = True  # unused when the ResBlocks resample
    return out


def matching_presets(cfg: dict) -> list[str]:
    """Names of the presets whose structure is that of `cfg`."""
    target = structure(cfg)
    return [name for name, kw in PRESETS.items() if structure(kw) == target]


def _fill_hidden(cfg: dict) -> dict:
    matches = matching_presets(cfg)
    if matches:
        cfg.update(
            {
                k: PRESETS[matches[0]][k]
                for k in HIDDEN
                if k in PRESETS[matches[0]] and k not in cfg
            }
        )
    cfg.setdefault("image_size", None)
    if (
        "num_head_channels" not in cfg
    ):  # unknown heads: ADM's default of 64 channels per head
        width = min(int(m * cfg["model_channels"]) for m in cfg["channel_mult"])
        cfg["num_head_channels"] = 64 if width % 64 == 0 else -1
    cfg["matching_presets"] = matches
    return cfg


def _mismatch_report(sd: dict, model: nn.Module) -> tuple[list, list, list]:
    own = model.state_dict()
    missing = sorted(set(own) - set(sd))
    unexpected = sorted(set(sd) - set(own))
    shapes = sorted(
        f"{k}: checkpoint {tuple(sd[k].shape)}, model {tuple(own[k].shape)}"
        for k in set(sd) & set(own)
        if sd[k].shape != own[k].shape
    )
    return missing, unexpected, shapes


def _flag_name(key: str, cfg: dict) -> str:
    if key == "out_channels" and cfg.get("model") == "EncoderUNetModel":
        return "number of classes (the classifier's out_channels)"
    return FLAG_NAMES[key]


def _as_flag(key: str, cfg: dict) -> str:
    """A constructor argument as the command-line flag that sets it."""
    if key == "num_classes":
        return f"class_cond={cfg[key] is not None} (num_classes={cfg[key]})"
    if key == "out_channels" and cfg.get("model") != "EncoderUNetModel":
        return (
            f"learn_sigma={cfg[key] == 2 * cfg['in_channels']} "
            f"(out_channels={cfg[key]})"
        )
    return repr(cfg[key])


def _explain(sd: dict, label: str, cfg: dict, missing, unexpected, shapes) -> str:
    def listing(title, items):
        more = f" ... (+{len(items) - 8} more)" if len(items) > 8 else ""
        return (
            f"\n  {title} ({len(items)}): {', '.join(items[:8])}{more}" if items else ""
        )

    lines = f"checkpoint does not fit {label}:" + listing("missing keys", missing)
    lines += listing("unexpected keys", unexpected) + listing(
        "shape mismatches", shapes
    )
    try:
        found = infer_config(sd)
    except ValueError as err:
        return lines + f"\n  (its own structure could not be read either: {err})"
    want, have = structure(cfg), structure(found)
    wrong = [
        f"{_flag_name(k, want)} (model: {_as_flag(k, want)}, "
        f"checkpoint: {_as_flag(k, have)})"
        for k in FLAG_NAMES
        if k in want and k in have and want[k] != have[k]
    ]
    if wrong:
        lines += "\n  likely wrong flag: " + "; ".join(wrong)
    if found["matching_presets"]:
        lines += (
            "\n  the checkpoint matches preset(s): "
            f"{', '.join(found['matching_presets'])}"
        )
    return lines


# --8<-- [start:load_checkpoint]
def load_checkpoint(
    path: str | Path,
    preset: str | None = None,
    device: str | torch.device | None = None,
    strict: bool = False,
    key: str | None = None,
    **overrides: object,
) -> nn.Module:
    """Build the model for a checkpoint and load its weights with `strict=True`.

    Args:
        path: `.pt`/`.pth`/`.bin` (read with `weights_only=True`) or `.safetensors`.
        preset: a name of `PRESETS`; None reads the configuration off the weights.
        device: where to build the model.
        strict: refuse to guess the settings the weights do not show (attention heads,
            head order): without a preset they must be passed as overrides.
        key: which state dict of a wrapper file (`'model'`, `'ema'`, ...) to load.
        **overrides: constructor arguments to change (e.g. `use_checkpoint=True`,
            `num_head_channels=64`).

    Returns:
        The model in eval mode. Without a preset, the head settings come from the
        released preset of the same structure; if none matches they are guessed, and
        a `UserWarning` names the guess (an error with `strict=True`).
    """
    sd = read_state_dict(path, key)
    if preset is None:
        cfg = infer_config(sd)
        matches = cfg.pop("matching_presets")
        _check_guess(cfg, matches, overrides, strict, path)
    else:
        cfg = dict(PRESETS[check_preset(preset)])
    probe = create_model(dict(cfg), device="meta", **overrides)
    cfg.update(overrides)
    missing, unexpected, shapes = _mismatch_report(sd, probe)
    if missing or unexpected or shapes:
        label = f"preset {preset!r}" if preset else "the inferred configuration"
        raise ValueError(
            _explain(sd, label, cfg, missing, unexpected, shapes) + f"\n  file: {path}"
        )
    model = create_model(cfg, device="meta")
    model.load_state_dict(sd, strict=True, assign=True)
    return model.to(device or "cpu").eval()


def _check_guess(cfg: dict, matches: list, overrides: dict, strict: bool, path):
    """Warn (or, with `strict`, raise) when head settings were not read but guessed."""
    has_attention = (
        bool(cfg.get("attention_resolutions")) or cfg.get("pool") == "attention"
    )
    guessed = {k: cfg[k] for k in HEADS if k in cfg and k not in overrides}
    if not has_attention or not guessed:
        return
    if guessed.get("num_head_channels") == -1 and "num_heads" not in cfg:
        guessed["num_heads"] = 1  # the constructor's default
    how = ", ".join(f"{k}={v!r}" for k, v in guessed.items())
    source = (
        f"taken from the released preset {matches[0]!r} of the same structure"
        if matches
        else "guessed (64 channels per head where the widths allow, else one head)"
    )
    msg = (
        f"{path}: the attention heads leave no trace in the weights; {how} were "
        f"{source}. If the network was trained with other heads its outputs will be "
        "wrong: pass them, e.g. load_checkpoint(path, num_head_channels=..., "
        "num_heads=..., use_new_attention_order=...), or preset=..."
    )
    if strict:
        raise ValueError("strict=True: " + msg)
    if not matches:
        warnings.warn(msg, UserWarning, stacklevel=3)


# --8<-- [end:load_checkpoint]
