"""The shipped 2-D MLP denoiser: loads offline, has a complete card, and samples the checkerboard."""

from __future__ import annotations

import pytest
import torch

from difflearn import model_wrapper, pretrained, sample
from difflearn.data import checkerboard
from difflearn.models import ToyMLP


def on_dark_squares(x: torch.Tensor) -> float:
    """Fraction of points on the dark squares of difflearn.data.checkerboard's 4x4 board on [-2, 2]^2."""
    cell = torch.floor(x + 2.0).long()
    return float((((cell[:, 0] + cell[:, 1]) % 2 == 0) & (x.abs() <= 2).all(1)).double().mean())


def test_reference_rule_separates_data_from_noise():
    g = torch.Generator().manual_seed(0)
    assert on_dark_squares(checkerboard(4000, generator=g)) == 1.0
    assert 0.4 < on_dark_squares(torch.rand(4000, 2, generator=g) * 4 - 2) < 0.6


def test_shipped_model_loads_with_a_complete_card():
    model, ns, card = pretrained.load("toy2d-mlp")
    assert isinstance(model, ToyMLP) and ns.total_N == 1000
    for key in ["command", "steps", "device", "wall_time_s", "final_loss"]:
        assert key in card, key
    assert card["steps"] >= 1000 and 0 < card["final_loss"] < 0.5


def test_shipped_model_samples_the_checkerboard():
    model, ns, _ = pretrained.load("toy2d-mlp")
    x_T = torch.randn(2000, 2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        x = sample(model_wrapper(model, ns), x_T, ns, method="unipc", steps=20, skip_type="logSNR")
    assert on_dark_squares(x) > 0.8   # noise: 0.5


@pytest.mark.parametrize("kwargs", [dict(hidden=0), dict(depth=1.5), dict(dim=True)])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        ToyMLP(**kwargs)
