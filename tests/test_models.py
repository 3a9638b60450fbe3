"""The ADM UNet, its classifier, presets and checkpoints.

The expected key sets, parameter counts and FLOPs in `tests/data/adm_reference.json`
were produced by guided-diffusion's own `guided_diffusion/unet.py` (run locally,
outside this repository, with each preset's constructor arguments on the meta
device), not by difflearn. Outputs were also compared with that code for both
head orders and all pool types (max abs diff 4.5e-8 in float32); that check
needs the original code and is not part of the suite. The attention tests below
check the head orders against a per-head loop written from the definition.
"""

from __future__ import annotations

import hashlib
import json
import math
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

import difflearn
from difflearn import models as M

REF = json.loads((Path(__file__).parent / "data" / "adm_reference.json").read_text())


def randomize(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Random weights (the zero-initialised output convolutions would hide everything)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            fan_in = p[0].numel() if p.ndim > 1 else 1
            p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan_in))
    return model


def tiny(preset: str, **extra) -> torch.nn.Module:
    """A preset at reduced width and depth, with every flag that shapes it kept."""
    kw = M.PRESETS[preset]
    over = dict(model_channels=64 if 0.5 in kw["channel_mult"] else 32, num_res_blocks=1)
    if kw.get("num_head_channels", -1) != -1:
        over["num_head_channels"] = 16
    if kw.get("pool") == "attention":
        over["image_size"] = 2 ** len(kw["channel_mult"])  # a 2x2 grid of tokens at the end
    return M.create_model(preset, **over, **extra)


def inputs(model, batch=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    C = 3
    size = 2 ** len(model.channel_mult)
    if isinstance(model, M.EncoderUNetModel):
        size = model.image_size
    x = torch.randn(batch, C, size, size, generator=g)
    t = torch.tensor([10.0, 731.5])[:batch]
    kw = {}
    if isinstance(model, M.SuperResModel):
        kw["low_res"] = torch.randn(batch, C, size // 2, size // 2, generator=g)
    if getattr(model, "num_classes", None):
        kw["y"] = torch.tensor([3, 999])[:batch]
    return x, t, kw


# ---------------------------------------------------------------- presets


@pytest.mark.parametrize("name", sorted(M.PRESETS))
def test_preset_keys_and_params_match_guided_diffusion(name):
    model = M.create_model(name, device="meta")
    sd = model.state_dict()
    ref = REF["presets"][name]
    lines = "\n".join(f"{k} {tuple(v.shape)}" for k, v in sd.items())
    assert len(sd) == ref["n_keys"]
    assert M.count_params(model) == ref["n_params"]
    assert hashlib.sha256(lines.encode()).hexdigest() == ref["keys_sha256"]


def test_preset_flops_match_guided_diffusion():
    for row in M.preset_table():
        assert row["gflops"] * 1e9 == REF["presets"][row["preset"]]["flops_per_image"], row["preset"]


def test_tiny_config_keys_and_shapes():
    kw = {k: tuple(v) if isinstance(v, list) else v for k, v in REF["tiny_unet"]["kwargs"].items()}
    sd = M.UNetModel(**kw).state_dict()
    assert {k: list(v.shape) for k, v in sd.items()} == REF["tiny_unet"]["shapes"]
    assert list(sd) == list(REF["tiny_unet"]["shapes"])  # same order too


def test_released_flag_translation():
    # facts of the README flags, read independently: channel multipliers by size, rates from pixels
    kw = M.PRESETS["64x64_diffusion"]
    assert kw["channel_mult"] == (1, 2, 3, 4) and kw["attention_resolutions"] == (2, 4, 8)
    assert kw["out_channels"] == 6 and kw["num_classes"] == 1000 and kw["use_new_attention_order"]
    assert M.PRESETS["128_512_upsampler"]["attention_resolutions"] == (16, 32)
    assert M.PRESETS["256x256_diffusion_uncond"]["num_classes"] is None
    assert M.PRESETS["64x64_classifier"]["num_res_blocks"] == 4


def test_create_model_rejects_bad_input():
    with pytest.raises(ValueError, match="preset must be one of"):
        M.create_model("64x64_difusion")
    with pytest.raises(ValueError, match="overrides must be constructor arguments"):
        M.create_model("64x64_diffusion", device="meta", num_channels=64)


# ---------------------------------------------------------------- forward


@pytest.mark.parametrize("name", ["64x64_diffusion", "128x128_diffusion", "256x256_diffusion_uncond",
                                  "512x512_diffusion", "64_256_upsampler", "128_512_upsampler",
                                  "64x64_classifier", "512x512_classifier"])
def test_forward_shapes_at_tiny_width(name):
    model = randomize(tiny(name)).eval()
    x, t, kw = inputs(model)
    with torch.no_grad():
        out = model(x, t, **kw)
    if isinstance(model, M.EncoderUNetModel):
        assert out.shape == (2, 1000)
    else:
        assert out.shape == (2, model.out_channels, *x.shape[2:])
    assert torch.isfinite(out).all()


def test_fresh_model_outputs_zero_and_forward_errors():
    model = tiny("64x64_diffusion").eval()  # zero-initialised head: a fresh model predicts 0
    x, t, kw = inputs(model)
    assert model(x, t, **kw).abs().max() == 0
    with pytest.raises(ValueError, match="class-conditional"):
        model(x, t)
    with pytest.raises(ValueError, match="timesteps must have shape"):
        model(x, torch.zeros(3), **kw)


@pytest.mark.parametrize("pool", M.POOLS)
def test_classifier_pools(pool):
    model = randomize(M.EncoderUNetModel(16, 3, 32, 7, 1, (2, 4), channel_mult=(1, 2, 2),
                                         num_head_channels=16,
                                         use_scale_shift_norm=True, resblock_updown=True, pool=pool)).eval()
    x = torch.randn(2, 3, 16, 16)
    out = model(x, torch.tensor([1.0, 900.0]))
    assert out.shape == (2, 7) and torch.isfinite(out).all()
    with pytest.raises(ValueError, match="pool must be one of"):
        M.EncoderUNetModel(16, 3, 32, 7, 1, (2,), pool="max")


# ---------------------------------------------------------------- attention


def attention_by_definition(qkv, heads, order):
    """Per-head loop over a channel-major (B, 3C, T) tensor, float64."""
    B, W, T = qkv.shape
    d = W // (3 * heads)
    if order == "legacy":  # channels grouped (head, q/k/v, d)
        parts = qkv.reshape(B, heads, 3, d, T)
        q, k, v = parts[:, :, 0], parts[:, :, 1], parts[:, :, 2]
    else:  # channels grouped (q/k/v, head, d)
        parts = qkv.reshape(B, 3, heads, d, T)
        q, k, v = parts[:, 0], parts[:, 1], parts[:, 2]
    out = torch.empty(B, heads, d, T, dtype=torch.float64)
    for b in range(B):
        for h in range(heads):
            w = torch.softmax(q[b, h].double().T @ k[b, h].double() / math.sqrt(d), dim=-1)  # (T, T)
            out[b, h] = (w @ v[b, h].double().T).T
    return out.reshape(B, heads * d, T)


@pytest.mark.parametrize("cls,order", [(M.QKVAttentionLegacy, "legacy"), (M.QKVAttention, "new")])
def test_head_orders_match_definition_fast_and_plain(cls, order):
    qkv = torch.randn(2, 3 * 4 * 8, 10, generator=torch.Generator().manual_seed(0))
    want = attention_by_definition(qkv, 4, order)
    fast, plain = cls(4, fast=True)(qkv), cls(4, fast=False)(qkv)
    assert (fast.double() - want).abs().max() < 1e-5
    assert (plain.double() - want).abs().max() < 1e-5
    assert (fast - plain).abs().max() < 1e-5


def test_fast_path_equals_plain_path_in_whole_models():
    for order in (False, True):
        model = randomize(M.create_model("64x64_diffusion", model_channels=32, num_head_channels=16,
                                         num_res_blocks=1, use_new_attention_order=order)).eval()
        x, t, kw = inputs(model)
        with torch.no_grad():
            fast = model(x, t, **kw)
            plain = M.set_attention_backend(model, "einsum")(x, t, **kw)
        assert (fast - plain).abs().max() <= 1e-5 * plain.abs().max()
    with pytest.raises(ValueError, match="backend must be one of"):
        M.set_attention_backend(model, "flash")


def test_head_orders_are_different_functions():
    outs = []
    for order in (False, True):
        model = randomize(M.create_model("64x64_diffusion", model_channels=32, num_head_channels=16,
                                         num_res_blocks=1, use_new_attention_order=order), seed=3).eval()
        x, t, kw = inputs(model)
        with torch.no_grad():
            outs.append(model(x, t, **kw))
    assert (outs[0] - outs[1]).abs().max() > 1e-2 * outs[0].abs().max()


# ---------------------------------------------------------------- precision, layout, checkpointing


def test_bf16_channels_last_and_fp16_torso_stay_close():
    model = randomize(tiny("256x256_diffusion")).eval()
    x, t, kw = inputs(model)
    with torch.no_grad():
        ref = model(x, t, **kw)
        cl = M.optimize(model, "fp32", channels_last=True)(x.to(memory_format=torch.channels_last), t, **kw)
        assert (cl - ref).abs().max() <= 1e-4 * ref.abs().max()
        scale = ref.abs().max()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            auto = model(x, t, **kw)
        assert (auto.float() - ref).abs().max() < 0.1 * scale
        fp16 = model.to(memory_format=torch.contiguous_format).convert_to_fp16()
        assert fp16.dtype == torch.float16
        half = fp16(x, t, **kw)
        assert half.dtype == torch.float32 and (half - ref).abs().max() < 0.05 * scale
        bf16 = M.optimize(model.convert_to_fp32(), "bf16")
        pure = bf16(x.bfloat16(), t, **kw)
        assert pure.dtype == torch.bfloat16 and (pure.float() - ref).abs().max() < 0.1 * scale


def test_gradient_checkpointing_gives_the_same_gradients():
    grads = []
    for flag in (False, True):
        model = randomize(tiny("64x64_diffusion", use_checkpoint=flag, dropout=0.0))
        x, t, kw = inputs(model)
        model(x, t, **kw).square().mean().backward()
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
    assert torch.allclose(grads[0], grads[1], rtol=1e-5, atol=1e-7)


def test_timestep_embedding_closed_form():
    t = torch.tensor([0.0, 1.5, 999.0])
    emb = M.timestep_embedding(t, 7)
    k = np.arange(3)
    omega = 10000.0 ** (-k / 3)
    want = np.concatenate([np.cos(t.numpy()[:, None] * omega), np.sin(t.numpy()[:, None] * omega),
                           np.zeros((3, 1))], axis=1)
    assert np.abs(emb.numpy() - want).max() < 1e-4


# ---------------------------------------------------------------- checkpoints


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_checkpoint_round_trip(tmp_path, suffix):
    model = randomize(tiny("64x64_diffusion")).eval()
    path = tmp_path / f"tiny{suffix}"
    if suffix == ".pt":
        torch.save(model.state_dict(), path)
    else:
        from safetensors.torch import save_file
        save_file(model.state_dict(), str(path))
    x, t, kw = inputs(model)
    # structure read off the weights; the heads leave no trace in them, so they are given
    loaded = M.load_checkpoint(path, num_head_channels=16, use_new_attention_order=True)
    with torch.no_grad():
        assert torch.equal(loaded(x, t, **kw), model(x, t, **kw))
    same = M.load_checkpoint(path, preset="64x64_diffusion", model_channels=32, num_res_blocks=1,
                             num_head_channels=16)
    with torch.no_grad():
        assert torch.equal(same(x, t, **kw), model(x, t, **kw))


@pytest.mark.parametrize("name", sorted(M.PRESETS))
def test_infer_config_recovers_every_preset(name):
    kw = M.PRESETS[name]
    cfg = M.infer_config(M.create_model(name, device="meta").state_dict())
    assert name in cfg["matching_presets"]
    for key in ("model", "in_channels", "model_channels", "out_channels", "num_res_blocks", "channel_mult",
                "attention_resolutions", "num_classes", "use_scale_shift_norm", "resblock_updown", "pool",
                "num_heads", "num_head_channels", "use_new_attention_order"):
        assert cfg.get(key) == kw.get(key), key
    if kw.get("pool") == "attention":
        assert cfg["image_size"] == kw["image_size"]


@pytest.mark.parametrize("kw", [
    dict(conv_resample=False, resblock_updown=False, use_scale_shift_norm=False, num_classes=None),
    dict(conv_resample=True, resblock_updown=False, attention_resolutions=(1, 4)),
    dict(pool="spatial"), dict(pool="spatial_v2"), dict(pool="adaptive", num_res_blocks=3),
])
def test_infer_config_beyond_the_presets(kw):
    cls = M.EncoderUNetModel if "pool" in kw else M.UNetModel
    args = dict(image_size=32, in_channels=3, model_channels=32, out_channels=3 if cls is M.UNetModel else 5,
                num_res_blocks=2, attention_resolutions=(2,), channel_mult=(1, 2, 2), num_heads=2,
                resblock_updown=True, use_scale_shift_norm=True)
    if cls is M.UNetModel:
        args["num_classes"] = 10
    args.update(kw)
    sd = cls(**args).state_dict()
    cfg = M.infer_config(sd)
    assert cfg["model"] == cls.__name__
    cfg.pop("matching_presets")
    rebuilt = M.create_model(cfg).state_dict()
    assert {k: v.shape for k, v in rebuilt.items()} == {k: v.shape for k, v in sd.items()}


def test_wrong_preset_names_the_flag(tmp_path):
    model = tiny("256x256_diffusion")  # class-conditional
    path = tmp_path / "cond.pt"
    torch.save(model.state_dict(), path)
    small = dict(model_channels=32, num_res_blocks=1, num_head_channels=16)
    with pytest.raises(ValueError) as err:
        M.load_checkpoint(path, preset="256x256_diffusion_uncond", **small)
    msg = str(err.value)
    assert "unexpected keys (1): label_emb.weight" in msg
    assert "likely wrong flag: class_cond (model: class_cond=False" in msg
    assert "256x256_diffusion" in msg
    with pytest.raises(ValueError) as err:
        M.load_checkpoint(path, preset="256x256_diffusion", out_channels=3, **small)
    assert "shape mismatches" in str(err.value) and "learn_sigma (model: learn_sigma=False" in str(err.value)
    with pytest.raises(ValueError) as err:
        M.load_checkpoint(path, preset="64x64_diffusion", **small)
    assert "missing keys" in str(err.value) and "image_size (it sets channel_mult)" in str(err.value)


class Payload:
    def __reduce__(self):  # unpickling would call print: code in a checkpoint
        return (print, ("pwned",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_bad_files_are_refused(tmp_path, capsys):
    evil = tmp_path / "evil.pt"
    with open(evil, "wb") as f:
        pickle.dump({"input_blocks.0.0.weight": Payload()}, f)
    with pytest.raises(ValueError, match="refusing to load"):
        M.load_checkpoint(evil)
    assert "pwned" not in capsys.readouterr().out
    with pytest.raises(ValueError, match="path suffix must be one of"):
        M.load_checkpoint(tmp_path / "weights.ckpt.txt")
    with pytest.raises(FileNotFoundError):
        M.load_checkpoint(tmp_path / "absent.pt")
    other = tmp_path / "other.pt"
    torch.save({"linear.weight": torch.zeros(2, 2)}, other)
    with pytest.raises(ValueError, match="must be an ADM UNet"):
        M.load_checkpoint(other)
    notdict = tmp_path / "list.pt"
    torch.save([torch.zeros(1)], notdict)
    with pytest.raises(ValueError, match="must hold a dict of tensors"):
        M.load_checkpoint(notdict)


# ---------------------------------------------------------------- learn_sigma


def test_learned_variance_interpolates_between_closed_forms():
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
    b = betas.numpy()
    abar = np.cumprod(1 - b)
    beta_tilde = b[1:] * (1 - abar[:-1]) / (1 - abar[1:])  # t = 1..N-1
    t = torch.tensor([0, 1, 500, 999])
    lo = M.learned_log_variance(-torch.ones(4, 1, 2, 2), t, betas)[:, 0, 0, 0].numpy()
    hi = M.learned_log_variance(torch.ones(4, 1, 2, 2), t, betas)[:, 0, 0, 0].numpy()
    mid = M.learned_log_variance(torch.zeros(4, 1, 2, 2), t, betas)[:, 0, 0, 0].numpy()
    want_lo = np.log(np.array([beta_tilde[0], beta_tilde[0], beta_tilde[499], beta_tilde[998]]))
    assert np.abs(lo - want_lo).max() < 1e-5
    assert np.abs(hi - np.log(b[[0, 1, 500, 999]])).max() < 1e-5
    assert np.abs(mid - (lo + hi) / 2).max() < 1e-5


def test_split_and_eps_only():
    out = torch.randn(2, 6, 4, 4)
    eps, v = M.split_learned_sigma(out, channels=3)
    assert torch.equal(torch.cat([eps, v], 1), out)
    with pytest.raises(ValueError, match="must have 4 channels"):
        M.split_learned_sigma(out, channels=2)
    fn = M.eps_only(lambda x, t: torch.cat([x, -x], 1), channels=3)
    x = torch.randn(2, 3, 4, 4)
    assert torch.equal(fn(x, None), x)


def test_top_level_exports():
    for name in ("UNetModel", "EncoderUNetModel", "SuperResModel", "create_model", "load_checkpoint"):
        assert getattr(difflearn, name) is getattr(M, name)


def test_presets_table_include_is_fresh():
    from tools import unet_presets_table as tool

    assert tool.OUT.read_text() == tool.render(), "run python -m tools.unet_presets_table"
