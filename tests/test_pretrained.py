"""The shipped models: they load offline, match their configs, sample sanely, and did learn."""

from __future__ import annotations

import json

import pytest
import torch

from difflearn import model_wrapper, sample
from difflearn.data import load_digits
from difflearn.metrics import classifier_accuracy
from difflearn.pretrained import WEIGHTS, classifier_log_prob, list_models, load

SHIPPED = ("digits-uncond", "digits-cond", "digits-classifier", "digits-features")


def test_all_shipped_models_are_listed_and_small():
    assert set(SHIPPED) <= set(list_models())
    total = sum(p.stat().st_size for p in WEIGHTS.iterdir() if p.is_file())
    assert total <= 30 * 10**6, f"weights/ holds {total / 1e6:.1f} MB, more than the 30 MB budget"
    with pytest.raises(ValueError, match="name must be one of"):
        load("imagenet-512")


@pytest.mark.parametrize("name", SHIPPED)
def test_model_matches_its_config_and_card(name):
    model, ns, card = load(name)
    assert type(model).__name__ == card["class"]
    for key, value in card["kwargs"].items():
        got = getattr(model, key, None)
        if got is not None:
            assert (tuple(got) if isinstance(got, (list, tuple)) else got) == \
                (tuple(value) if isinstance(value, list) else value), key
    assert sum(p.numel() for p in model.parameters()) == card["params"]
    assert not model.training and all(p.dtype == torch.float32 for p in model.parameters())
    for field in ("command", "steps", "device", "wall_time_s", "final_loss", "train"):
        assert field in card, field
    text = (WEIGHTS / f"{name}.md").read_text()
    assert card["command"] in text and str(card["steps"]) in text
    if name != "digits-features":
        assert ns.schedule == "discrete" and ns.total_N == card["schedule"]["num_timesteps"]
    # the JSON really is plain JSON (no pickled objects anywhere)
    json.loads((WEIGHTS / f"{name}.json").read_text())


def _check_images(x, n):
    """Finite, and (nearly) all in [-1.5, 1.5]: the small model overshoots a few saturated stroke pixels
    of about one image in fifty (up to |x| ~ 3), which is reported in the model card's notes."""
    assert x.shape == (n, 1, 8, 8)
    assert torch.isfinite(x).all()
    assert float(x.abs().max()) < 5.0
    per_image_max = x.flatten(1).abs().amax(1)
    assert int((per_image_max > 1.5).sum()) <= max(1, n // 10), per_image_max
    if n >= 64:
        assert float((x.abs() <= 1.5).double().mean()) >= 0.98


def x_T(n, seed=0):
    return torch.randn(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed))


def test_uncond_samples_at_nfe_10():
    model, ns, _ = load("digits-uncond")
    fn = model_wrapper(model, ns)
    with torch.no_grad():
        x8 = sample(fn, x_T(8), ns, method="unipc", steps=10)
        x64 = sample(fn, x_T(64, 1), ns, method="dpmsolver++", steps=10, order=3, skip_type="logSNR")
    _check_images(x8, 8)
    _check_images(x64, 64)


def test_cond_samples_with_classifier_free_guidance_at_nfe_10():
    model, ns, card = load("digits-cond")
    assert card["null_class"] == 10 and model.num_classes == 11
    y = torch.arange(64) % 10
    fn = model_wrapper(model, ns, guidance_type="classifier-free", condition=y,
                       unconditional_condition=torch.full_like(y, card["null_class"]), guidance_scale=2.0)
    with torch.no_grad():
        x = sample(fn, x_T(64), ns, method="dpmsolver++", steps=10, order=3, skip_type="logSNR")
    _check_images(x, 64)
    # the independent clean-digits classifier recognises the requested digits (chance: 0.1)
    assert classifier_accuracy(x, y) > 0.85


def test_classifier_guided_samples_at_nfe_10():
    model, ns, _ = load("digits-uncond")
    clf, _, _ = load("digits-classifier")
    y = torch.arange(64) % 10
    accuracy = {}
    for scale in (0.0, 2.0):
        fn = model_wrapper(model, ns, guidance_type="classifier", condition=y, guidance_scale=scale,
                           classifier_fn=classifier_log_prob(clf))
        with torch.no_grad():
            x = sample(fn, x_T(64), ns, method="dpmsolver++", steps=10, order=3, skip_type="logSNR")
        _check_images(x, 64)
        accuracy[scale] = classifier_accuracy(x, y)
    assert accuracy[0.0] < 0.3 < 0.8 < accuracy[2.0], accuracy  # unguided: chance; guided: on target


def test_shipped_models_learned_their_tasks():
    """Loss / accuracy on the real digits, against the trivial baselines computed by hand."""
    x0, y = load_digits(8)
    x0, y = x0[:512], y[:512]
    g = torch.Generator().manual_seed(0)
    eps = torch.randn(x0.shape, generator=g)
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)  # the linear schedule, written out
    abar = torch.cumprod(1 - betas, 0).float()

    def x_n(n):  # q(x_n | x_0) of Ho et al. (2020), Eq. 4
        return abar[n].sqrt() * x0 + (1 - abar[n]).sqrt() * eps, torch.full((512,), float(n))

    with torch.no_grad():
        model, _, _ = load("digits-uncond")
        mse = float(((model(*x_n(299)) - eps) ** 2).mean())
        clf, _, _ = load("digits-classifier")
        noisy_acc = float((clf(*x_n(100)).argmax(-1) == y).double().mean())
        feats, _, _ = load("digits-features")
        clean_acc = float((feats(x0).argmax(-1) == y).double().mean())
    assert mse < 0.3, mse                 # predicting eps = 0 would give E[eps^2] = 1
    assert noisy_acc > 0.95, noisy_acc    # at abar = 0.9; chance is 0.1
    assert clean_acc > 0.95, clean_acc


def test_classifier_log_prob_is_a_log_softmax():
    clf = lambda x, t: torch.tensor([[0.0, 1.0, 2.0]]).expand(x.shape[0], 3)
    fn = classifier_log_prob(clf, temperature=2.0)
    out = fn(torch.zeros(2, 1), None, torch.tensor([2, 0]))
    z = torch.tensor([0.0, 0.5, 1.0])
    ref = z - torch.log(torch.exp(z).sum())
    torch.testing.assert_close(out, ref[[2, 0]])
    with pytest.raises(ValueError, match="temperature"):
        classifier_log_prob(clf, temperature=0.0)
