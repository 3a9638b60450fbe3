"""Editing against exact answers: SDEdit, inpainting (replacement and RePaint), DDIM inversion under guidance,
null-text inversion and DiffEdit's mask.

The model is the exact noise prediction of a Gaussian mixture, whose conditionals are known in closed form,
except for null-text inversion, which needs a network with a label-embedding table (the shipped
`digits-cond`).
"""

from __future__ import annotations

import math

import pytest
import torch

from difflearn import GaussianMixture, NoiseScheduleVP, beta_schedule, model_wrapper, pretrained
from difflearn.data import load_digits
from difflearn.editing import (
    border_gap,
    diffedit,
    diffedit_mask,
    guided_ddim,
    guided_eps,
    null_embedding,
    null_text_inversion,
    repaint,
    sdedit,
    sdedit_timesteps,
)
from difflearn.samplers import ddim, ddim_inversion
from difflearn.schedules import time_steps

NS = NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000))
TWO = GaussianMixture([[-2.0, -2.0], [2.0, 2.0]], 0.3)       # two modes on the diagonal
EPS = model_wrapper(TWO.noise_fn(NS, time_input="discrete"), NS)


def grid(steps, t0=1.0):
    return time_steps(NS, "time_uniform", t0, 1e-3, steps, dtype=torch.float64)


# ---------------------------------------------------------------- inpainting


def test_inpainting_keeps_the_known_region_and_repaint_samples_the_exact_conditional():
    """Known x1 = 2: the exact conditional of x2 is the second mode only, N(2, 0.3^2)."""
    n = 1000
    x_known = torch.tensor([[2.0, 0.0]], dtype=torch.float64).expand(n, 2).clone()
    mask = torch.tensor([1.0, 0.0], dtype=torch.float64)
    replaced = repaint(EPS, x_known, mask, NS, grid(50), generator=torch.Generator().manual_seed(0))
    resampled = repaint(EPS, x_known, mask, NS, grid(50), resamplings=5, generator=torch.Generator().manual_seed(0))
    for out in (replaced, resampled):
        assert torch.equal(out[:, 0], x_known[:, 0])                     # the known region is the input
        assert float(out[:, 1].std()) > 0.1                               # the rest was generated
    se = 0.3 / math.sqrt(n)
    # replacement is biased towards the other mode (some samples even land in it); resampling is not
    assert float(replaced[:, 1].mean()) < 2.0 - 10 * se
    assert abs(float(resampled[:, 1].mean()) - 2.0) < 5 * se
    assert bool((resampled[:, 1] > 0).all())
    # its spread is the exact 0.3 less the ancestral sampler's own shrinkage at 50 steps (0.26 unconditionally)
    assert 0.2 < float(resampled[:, 1].std()) < 0.32
    with pytest.raises(ValueError, match="mask"):
        repaint(EPS, x_known, torch.tensor([0.5, 0.0], dtype=torch.float64), NS, grid(4))
    with pytest.raises(ValueError, match="resamplings"):
        repaint(EPS, x_known, mask, NS, grid(4), resamplings=0)


def test_border_gap_counts_only_pairs_across_the_mask_edge():
    x = torch.zeros(1, 1, 4, 4)
    x[..., 2:, :] = 1.0                                                   # a step exactly at the edge
    mask = torch.zeros(4, 4)
    mask[:2] = 1                                                          # top half known
    assert float(border_gap(x, mask)[0]) == 1.0
    x[..., 0, 0] = 5.0                                                    # away from the edge: not counted
    assert float(border_gap(x, mask)[0]) == 1.0


# ---------------------------------------------------------------- SDEdit


def test_sdedit_trades_faithfulness_for_realism_as_strength_grows():
    n = 2000
    guide = torch.tensor([[0.5, -0.5]], dtype=torch.float64).expand(n, 2).clone()   # between the modes
    dist, on_data = [], []
    for s in (0.01, 0.05, 0.2, 1.0):
        out = sdedit(EPS, guide, NS, sdedit_timesteps(NS, s, 20), generator=torch.Generator().manual_seed(1))
        dist.append(float((out - guide).norm(dim=1).mean()))
        on_data.append(float(TWO.log_prob(out).mean()))
    assert dist[:3] == sorted(dist[:3]) and dist[0] < 0.2                 # small strength: stays at the guide
    assert on_data == sorted(on_data) and on_data[-1] > on_data[0] + 2    # larger strength: on the data
    # strength 1 forgets the guide: both modes, equally often
    assert abs(float((out[:, 0] > 0).double().mean()) - 0.5) < 4 * 0.5 / math.sqrt(n)
    with pytest.raises(ValueError, match="strength"):
        sdedit_timesteps(NS, 0.0, 10)


# ---------------------------------------------------------------- inversion


def round_trip(eps_fn, x0, steps):
    ts = grid(steps)
    x_T = ddim_inversion(eps_fn, x0, NS, ts.flip(0))
    return float((ddim(eps_fn, x_T, NS, ts) - x0).norm(dim=1).mean())


def test_ddim_inversion_round_trip_error_falls_with_steps_and_grows_with_guidance():
    x0 = TWO.sample(400, generator=torch.Generator().manual_seed(2), return_labels=True)
    x0 = x0[0][x0[1] == 1]                                                # the mode of label 1
    errors = [round_trip(EPS, x0, n) for n in (5, 10, 20, 50, 100)]
    assert all(b < a for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < 0.1 * errors[0]
    # classifier-free guidance with the exact conditional (label 1) and unconditional (label -1) models
    y, base = torch.ones(len(x0), dtype=torch.long), TWO.noise_fn(NS, time_input="discrete")
    guided = []
    for w in (1.0, 2.0, 4.0, 8.0):
        fn = model_wrapper(base, NS, guidance_type="classifier-free", condition=y, unconditional_condition=-y,
                           guidance_scale=w)
        guided.append(round_trip(fn, x0, 20))
    assert guided == sorted(guided) and guided[-1] > 2 * guided[0], guided


@pytest.mark.slow
def test_null_text_inversion_restores_guided_reconstruction():
    model, ns, card = pretrained.load("digits-cond")
    images, labels = load_digits(8)
    x0, y = images[:6], labels[:6]
    ts = time_steps(ns, "time_uniform", 1.0, 1e-3, 10, dtype=torch.float64)
    w, null = 3.0, card["null_class"]
    nulls = [null_embedding(model, null, 6)] * 10
    with torch.no_grad():                                                  # plain inversion with the guided model
        guided_fn = lambda x, t: guided_eps(model, ns, x, t, y, nulls[0], w)
        x_T = ddim_inversion(guided_fn, x0, ns, ts.flip(0))
        plain = float((guided_ddim(model, ns, x_T, ts, y, nulls, w) - x0).abs().mean())
    x_T, tuned = null_text_inversion(model, ns, x0, ts, y, null, w, inner_steps=10)
    with torch.no_grad():
        fixed = float((guided_ddim(model, ns, x_T, ts, y, tuned, w) - x0).abs().mean())
        # guided_eps with the trained null row is exactly model_wrapper's classifier-free guidance
        cfg = model_wrapper(model, ns, guidance_type="classifier-free", condition=y,
                            unconditional_condition=torch.full_like(y, null), guidance_scale=w)
        t = torch.full((6,), 0.4)
        torch.testing.assert_close(guided_eps(model, ns, x0, t, y, nulls[0], w), cfg(x0, t), rtol=1e-5, atol=1e-5)
    with torch.no_grad():  # the pivot's own error: unguided (w = 1) inversion and back
        cond_fn = lambda x, t: guided_eps(model, ns, x, t, y, nulls[0], 1.0)
        base = float((guided_ddim(model, ns, ddim_inversion(cond_fn, x0, ns, ts.flip(0)), ts, y, nulls, 1.0)
                      - x0).abs().mean())
    # guidance adds round-trip error; null-text inversion takes at least 3/4 of it away
    # (it was an expected failure while the tuned embeddings shared one tensor: Adam's
    # in-place update of step i + 1 rewrote the embedding kept for step i)
    assert plain > base and fixed - base < 0.25 * (plain - base), (base, plain, fixed)


def test_null_text_inversion_keeps_one_embedding_per_step():
    model, ns, card = pretrained.load("digits-cond")
    images, labels = load_digits(8)
    ts = time_steps(ns, "time_uniform", 1.0, 1e-3, 4, dtype=torch.float64)
    _, tuned = null_text_inversion(model, ns, images[:2], ts, labels[:2], card["null_class"], 3.0,
                                   inner_steps=3)
    assert len(tuned) == 4 and len({t.data_ptr() for t in tuned}) == 4
    assert all(not torch.equal(a, b) for a, b in zip(tuned, tuned[1:]))


# ---------------------------------------------------------------- DiffEdit


def test_diffedit_mask_finds_the_coordinates_where_the_classes_differ_and_edits_only_there():
    """Classes A and B agree on coordinates 0-1 and differ on 2-3: the mask is exactly 2-3."""
    gm = GaussianMixture([[1.0, -1.0, -2.0, -2.0], [1.0, -1.0, 2.0, 2.0]], 0.3)
    fn = gm.noise_fn(NS, time_input="discrete")
    a = model_wrapper(lambda x, t: fn(x, t, 0), NS)
    b = model_wrapper(lambda x, t: fn(x, t, 1), NS)
    x0 = gm.sample(50, generator=torch.Generator().manual_seed(3), return_labels=True)
    x0 = x0[0][x0[1] == 0][:, None, :]                                   # (B, 1, 4): class A samples
    mask, scores = diffedit_mask(b, a, x0, NS, generator=torch.Generator().manual_seed(4))
    assert torch.equal(mask, torch.tensor([0.0, 0.0, 1.0, 1.0], dtype=torch.float64).expand_as(mask))
    assert float(scores.min()) == 0.0 and float(scores.max()) == 1.0
    edited = diffedit(b, a, x0, mask, NS, grid(30, 0.5))
    assert float((edited[..., :2] - x0[..., :2]).abs().max()) < 0.05    # outside the mask: the input
    assert bool((edited[..., 2:] > 0).all())                              # inside: moved to class B
