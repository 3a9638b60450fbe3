"""The shipped latent text-to-image family: interop with diffusers, the measured scaling factor,
captions followed (judged by the independent reader), the pipeline's errors, the training code
in a reduced mode and the experiment tool in quick mode."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from difflearn import FlowSchedule, pretrained
from difflearn.data import ATTRIBUTES, load_glyphs, make_caption, tokenize
from difflearn.glyph_metrics import attribute_accuracy, glyph_fid, glyph_kid, kernel_distance
from difflearn.pipeline import text_to_image
from difflearn.pretrained import WEIGHTS, list_models
from difflearn.training.checkpoints import find_checkpoint

ROOT = Path(__file__).resolve().parents[1]
GLYPH_MODELS = ("glyphs-vae", "glyphs-reader", "glyphs-unet", "glyphs-dit")


def test_glyph_models_are_shipped_within_their_budget():
    assert set(GLYPH_MODELS) <= set(list_models())
    size = sum((WEIGHTS / f"{n}.{ext}").stat().st_size for n in GLYPH_MODELS for ext in ("safetensors", "json", "md"))
    assert size <= 12 * 10**6, f"the glyph models take {size / 1e6:.1f} MB, more than their 12 MB share"
    for name in GLYPH_MODELS:
        model, schedule, card = pretrained.load(name)
        assert sum(p.numel() for p in model.parameters()) == card["params"]
        assert not model.training and all(p.dtype == torch.float32 for p in model.parameters())
        for field in ("command", "steps", "device", "wall_time_s", "cpu_time_s", "final_loss", "measured"):
            assert field in card, (name, field)
        # the bar: at most 30 minutes on a 2-core CPU. The CPU time adds up the threads
        # (glyphs-vae ran two), so it is per thread that it must fit, and the wall time too
        threads = card["torch_threads"] or 1
        assert card["cpu_time_s"] / threads <= 30 * 60, f"{name}: {card['cpu_time_s']} s of CPU, {threads} threads"
        if card["device"].startswith("CPU"):
            assert card["wall_time_s"] <= 30 * 60, f"{name}: {card['wall_time_s']} s wall, over 30 minutes"
        text = (WEIGHTS / f"{name}.md").read_text()
        assert card["command"] in text and str(card["steps"]) in text
    assert isinstance(pretrained.load("glyphs-dit")[1], FlowSchedule)
    assert pretrained.load("glyphs-unet")[1].schedule == "discrete"


def test_shipped_autoencoder_loads_into_diffusers_and_reconstructs():
    diffusers = pytest.importorskip("diffusers")
    ours, _, card = pretrained.load("glyphs-vae")
    theirs = diffusers.AutoencoderKL(**ours.diffusers_config()).eval()
    theirs.load_state_dict(ours.state_dict(), strict=True)
    assert theirs.config.scaling_factor == ours.scaling_factor == card["kwargs"]["scaling_factor"]
    x = load_glyphs("test", n=128).images
    with torch.no_grad():
        rec_theirs = theirs(x).sample  # diffusers decodes the posterior mode by default
        rec_ours = ours(x)[0]
    torch.testing.assert_close(rec_ours, rec_theirs, rtol=1e-4, atol=1e-4)
    mse01 = float(((rec_theirs.clamp(-1, 1) - x) / 2).pow(2).mean())
    assert 10 * math.log10(1 / mse01) > 20, "reconstruction PSNR below 20 dB"


def test_scaling_factor_is_one_over_the_latent_std():
    vae, _, _ = pretrained.load("glyphs-vae")
    x = load_glyphs("train", n=1000).images
    with torch.no_grad():
        p = vae.encode(x)
    z = p.mean + p.std * torch.randn(p.mean.shape, generator=torch.Generator().manual_seed(5))
    s = 1 / float(z.std())  # recomputed here, by hand
    assert abs(s / vae.scaling_factor - 1) < 0.01, (s, vae.scaling_factor)
    assert vae.scaling_factor < 0.9 or vae.scaling_factor > 1.1, "the factor was expected to matter"


def test_reader_reads_real_and_reconstructed_images():
    reader, _, card = pretrained.load("glyphs-reader")
    vae = pretrained.load("glyphs-vae")[0]
    test = load_glyphs("test", n=500)
    acc = attribute_accuracy(test.images, test.attributes, reader)
    assert all(v > 0.97 for v in acc.values()), acc
    with torch.no_grad():
        rec = vae(test.images)[0].clamp(-1, 1)
    acc_rec = attribute_accuracy(rec, test.attributes, reader)
    assert acc_rec["all"] > 0.85, acc_rec
    # the FID of real against real is small next to that of real against shuffled pixels
    other = load_glyphs("train", n=500).images
    noise = other.flatten(1)[:, torch.randperm(3072, generator=torch.Generator().manual_seed(0))].reshape(other.shape)
    assert glyph_fid(other, test.images, reader) < 0.1 * glyph_fid(noise, test.images, reader)
    assert abs(glyph_kid(other, test.images, reader)) < 0.05 * glyph_kid(noise, test.images, reader)


def test_kernel_distance_is_the_unbiased_mmd_of_the_cubic_kernel():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(7, 3, generator=g, dtype=torch.float64), torch.randn(5, 3, generator=g, dtype=torch.float64)

    def k(u, v):  # one pair at a time, by the definition
        return (sum(float(x) * float(y) for x, y in zip(u, v)) / 3 + 1) ** 3

    aa = sum(k(a[i], a[j]) for i in range(7) for j in range(7) if i != j) / (7 * 6)
    bb = sum(k(b[i], b[j]) for i in range(5) for j in range(5) if i != j) / (5 * 4)
    ab = sum(k(a[i], b[j]) for i in range(7) for j in range(5)) / 35
    assert math.isclose(kernel_distance(a, b), aa + bb - 2 * ab, rel_tol=1e-12)
    # unbiased: over many pairs of samples of one Gaussian, the mean is zero within its standard error,
    # while the FID of the same pairs (a biased plug-in estimate) is positive every time
    from difflearn.metrics import frechet_distance, gaussian_fit

    kids, fids = [], []
    for _ in range(200):
        x, y = torch.randn(2, 20, 4, generator=g, dtype=torch.float64)
        kids.append(kernel_distance(x, y))
        fids.append(frechet_distance(*gaussian_fit(x), *gaussian_fit(y)))
    mean, se = sum(kids) / 200, (sum((v - sum(kids) / 200) ** 2 for v in kids) / 199 / 200) ** 0.5
    assert abs(mean) < 4 * se and min(fids) > 0, (mean, se)
    with pytest.raises(ValueError, match="at least 2 samples per set, got 1 and 5"):
        kernel_distance(a[:1], b)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["glyphs-unet", "glyphs-dit"])
def test_samples_follow_their_captions(name):
    model, schedule, _ = pretrained.load(name)
    vae, reader = pretrained.load("glyphs-vae")[0], pretrained.load("glyphs-reader")[0]
    test = load_glyphs("test", n=64)
    prompts = [make_caption({k: int(v[i]) for k, v in test.attributes.items()}) for i in range(64)]
    guided = attribute_accuracy(text_to_image(prompts, vae, model, schedule, steps=10, guidance_scale=3.0),
                                test.attributes, reader)
    uncond = attribute_accuracy(text_to_image(prompts, vae, model, schedule, steps=10, guidance_scale=0.0),
                                test.attributes, reader)
    chance = {k: 1 / len(v) for k, v in ATTRIBUTES.items()}
    # unconditional samples are at chance (5 binomial standard errors), guided ones far above it
    for k, p in chance.items():
        assert abs(uncond[k] - p) < 5 * math.sqrt(p * (1 - p) / 64) + 0.02, (k, uncond)
    assert guided["colour"] > 0.9 and guided["background"] > 0.9, guided
    # the digit is the hard part (0.64 of 500 samples at 20 steps for both models, on the
    # cards): 64 samples at 10 steps must stay well above chance (0.1)
    assert guided["glyph"] > 0.4 and guided["size"] > 0.8, guided
    assert guided["all"] > 0.3, guided


def test_pipeline_errors_are_clear():
    vae = pretrained.load("glyphs-vae")[0]
    model, schedule, _ = pretrained.load("glyphs-dit")
    with pytest.raises(ValueError, match=r"outside the vocabulary: \['purple'\]"):
        text_to_image("a purple 3", vae, model, schedule)
    with pytest.raises(ValueError, match="method must be one of"):
        text_to_image("a red 3", vae, model, schedule, method="dpmsolver++")
    with pytest.raises(ValueError, match=r"latent z must have shape \(B, 4, 8, 8\)"):
        vae.decode(torch.zeros(1, 4, 4, 4))
    with pytest.raises(ValueError, match=r"caption_dropout must lie in \[0, 1\]"):
        from difflearn.training import make_caption_batch_fn

        make_caption_batch_fn(torch.zeros(2, 4, 8, 8), tokenize(["a red 3"] * 2), schedule, 1.5)


def test_training_code_runs_in_a_reduced_mode(tmp_path):
    """Each glyph spec trains for two steps (checkpoints under tmp_path; the shipped weights are not touched)."""
    from tools import train_glyphs

    for name in ("glyphs-vae", "glyphs-unet", "glyphs-dit"):
        spec = train_glyphs.SPECS[name]
        config = replace(spec["train"], steps=2, batch_size=4, progress=False, checkpoint_every=0)
        model = pretrained.build_model(spec)
        if spec["kind"] == "autoencoder":
            from difflearn.training import train_autoencoder

            result = train_autoencoder(model, load_glyphs("train", n=64).images, spec["kl_weight"], config,
                                       tmp_path / name)
        else:
            latents, tokens = train_glyphs.training_latents(pretrained.load("glyphs-vae")[0], n=64)
            result = train_glyphs.train_denoiser(model, spec, config, tmp_path / name, latents, tokens)
        assert result.step == 2 and all(math.isfinite(v) for v in result.losses), name
        assert (find_checkpoint(tmp_path / name) / "state.json").is_file()


@pytest.mark.slow
def test_experiment_tool_quick(tmp_path):
    env = {"DIFFLEARN_EXPERIMENTS_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-m", "tools.latent_experiments", "--quick", "--only", "grid",
                           "--variants", "dit-flow", "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env={**__import__("os").environ, **env})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    record = json.loads((tmp_path / "latent-experiments.json").read_text())
    rows = record["grid"]["dit-flow"]["quality"]["Euler"]
    assert [r["nfe"] for r in rows] == [2, 4] and record["quick"] is True
    assert (tmp_path / "unet-vs-dit.md").is_file() and (tmp_path / "vp-vs-flow.md").is_file()
