"""The glyph data set and its captions: rendering checked against matplotlib's own rasteriser and
image moments, determinism, the caption grammar, the tokenizer's errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from difflearn.data import ATTRIBUTES, VOCAB, load_glyphs, make_caption, parse_caption, render_glyphs, tokenize
from difflearn.data.captions import CONTEXT_LENGTH, PAD, START
from difflearn.data.glyphs import BACKGROUNDS, BOX, COLOURS, FONT, MASK, ROTATIONS, SIZES, glyph_masks


def test_masks_match_matplotlibs_agg_rendering():
    """The even-odd rasterisation of each outline against Agg drawing the same path (holes included)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import PathPatch
    from matplotlib.textpath import TextPath

    masks = glyph_masks().numpy()[:, 0]
    for i, ch in enumerate(ATTRIBUTES["glyph"]):
        path = TextPath((0, 0), ch, size=1, prop=FontProperties(**FONT))
        e = path.get_extents()
        cx, cy, h = (e.x0 + e.x1) / 2, (e.y0 + e.y1) / 2, e.height
        fig = plt.figure(figsize=(1, 1), dpi=MASK)
        ax = fig.add_axes([0, 0, 1, 1])
        ax.axis("off")
        ax.set_xlim(cx - BOX * h / 2, cx + BOX * h / 2)
        ax.set_ylim(cy - BOX * h / 2, cy + BOX * h / 2)
        ax.add_patch(PathPatch(path, color="k", lw=0))
        fig.canvas.draw()
        agg = 1 - np.asarray(fig.canvas.buffer_rgba())[..., 0] / 255.0
        plt.close(fig)
        iou = np.minimum(agg, masks[i]).sum() / np.maximum(agg, masks[i]).sum()
        assert iou > 0.95, (ch, iou)
    # the holes of 0, 6, 8, 9 are empty: the mask at the centre of the 0 is background
    assert masks[0][MASK // 2, MASK // 2] < 0.01


def _one(glyph, colour, size, rotation, background, n=1, seed=0):
    attrs = {"glyph": glyph, "colour": colour, "size": size, "rotation": rotation, "background": background}
    attrs = {k: torch.full((n,), ATTRIBUTES[k].index(v)) for k, v in attrs.items()}
    return render_glyphs(attrs, torch.Generator().manual_seed(seed))


def test_colours_background_and_frame():
    for colour, bg in itertools.product(COLOURS, BACKGROUNDS):
        x = (_one("8", colour, "large", "upright", bg, n=16) + 1) / 2  # (16, 3, 32, 32) in [0, 1]
        assert x.shape == (16, 3, 32, 32) and 0 <= float(x.min()) and float(x.max()) <= 1
        border = torch.cat([x[..., 0, :], x[..., -1, :], x[..., :, 0], x[..., :, -1]], -1)  # (16, 3, 124)
        lo, hi = BACKGROUNDS[bg]
        assert float(border.min()) >= lo - 1e-6 and float(border.max()) <= hi + 1e-6  # the glyph stays inside
        assert float((border - border[..., :1]).abs().max()) < 1e-6                  # a plain grey frame
        # the most glyph-like pixel has the requested colour, within the jitter of +-0.06
        far = (x - border[..., :1, None]).abs().sum(1).flatten(1).argmax(1)          # (16,)
        pix = x.flatten(2)[torch.arange(16), :, far]                                  # (16, 3)
        assert float((pix - torch.tensor(COLOURS[colour])).abs().max()) < 0.07, (colour, bg)


def _principal_angle(img):
    """Counter-clockwise angle (degrees, screen coordinates) of the long axis of a grey image's mass."""
    w = img / img.sum()
    H, W = img.shape
    y, x = torch.meshgrid(torch.arange(H, dtype=torch.float64), torch.arange(W, dtype=torch.float64), indexing="ij")
    mx, my = (w * x).sum(), (w * y).sum()
    cxx, cyy, cxy = (w * (x - mx) ** 2).sum(), (w * (y - my) ** 2).sum(), (w * (x - mx) * (y - my)).sum()
    theta = 0.5 * math.atan2(2 * float(cxy), float(cxx - cyy))  # long axis, y pointing down
    return -math.degrees(theta)  # screen: up is +y


def test_rotation_direction_and_size_from_image_moments():
    """A '1' is a vertical bar: its long axis is at 90 degrees upright, larger when rotated left."""
    angles = {}
    for rot in ROTATIONS:
        x = (_one("1", "red", "large", rot, "dark", n=32) + 1) / 2
        mass = (x[:, 0] - x[:, 1]).clamp(min=0).double()  # red minus green: the glyph
        angles[rot] = np.mean([_principal_angle(m) % 180 for m in mass])
    # the '1' has a flag and a foot, so its axis is not exactly vertical; the differences are the rotations
    assert 15 < angles["left"] - angles["upright"] < 45, angles
    assert 15 < angles["upright"] - angles["right"] < 45, angles
    heights = {}
    for size in SIZES:
        x = (_one("1", "red", size, "upright", "dark", n=16) + 1) / 2
        rows = ((x[:, 0] - x[:, 1]) > 0.4).any(-1).double().sum(-1)  # (16,) rows covered by the glyph
        heights[size] = float(rows.mean()) / 32
    assert SIZES["small"][0] - 0.05 < heights["small"] < SIZES["small"][1] + 0.05, heights
    assert SIZES["large"][0] - 0.05 < heights["large"] < SIZES["large"][1] + 0.05, heights


def test_splits_are_deterministic_and_prefix_stable():
    a = load_glyphs("test", n=1200)
    b = load_glyphs("test", n=300)
    assert torch.equal(a.images[:300], b.images) and a.captions[:300] == b.captions
    assert len(a) == 1200 and a.images.dtype == torch.float32
    t = load_glyphs("train", n=300)
    assert not torch.equal(t.images, b.images)
    for k, v in a.attributes.items():  # every value occurs, roughly uniformly (chi-square, 5 sigma)
        counts = torch.bincount(v, minlength=len(ATTRIBUTES[k])).double()
        expected = len(v) / len(ATTRIBUTES[k])
        chi2 = float(((counts - expected) ** 2 / expected).sum())
        dof = len(ATTRIBUTES[k]) - 1
        assert chi2 < dof + 5 * math.sqrt(2 * dof), (k, counts)
    complete = np.mean([len(parse_caption(c)) == 5 for c in a.captions])
    assert abs(complete - 0.75**3) < 4 * math.sqrt(0.42 * 0.58 / len(a))  # each optional phrase kept w.p. 0.75
    for cap, i in zip(a.captions[:50], range(50)):
        assert parse_caption(cap).items() <= {k: int(v[i]) for k, v in a.attributes.items()}.items()
    with pytest.raises(ValueError, match="split must be one of"):
        load_glyphs("valid")
    with pytest.raises(ValueError, match=r"n must be an int in \[1, 2000\]"):
        load_glyphs("test", n=5000)


def test_every_caption_parses_back_and_tokenizes():
    sizes = [len(v) for v in ATTRIBUTES.values()]
    for idx in itertools.product(*map(range, sizes)):
        attrs = dict(zip(ATTRIBUTES, idx))
        for omit in itertools.product([False, True], repeat=3):
            cap = make_caption(attrs, omit)
            expect = {k: v for k, v in attrs.items()
                      if not (k == "size" and omit[0] or k == "rotation" and omit[1] or k == "background" and omit[2])}
            assert parse_caption(cap) == expect, cap
    assert make_caption(dict.fromkeys(ATTRIBUTES, 0)) == "a small red 0, upright, on a dark background"
    tok = tokenize(["a small red 3, rotated left, on a dark background", "a cyan 7", ""])
    assert tok.shape == (3, CONTEXT_LENGTH) and tok.dtype == torch.int64
    assert [VOCAB[i] for i in tok[1] if i != PAD] == ["<start>", "a", "cyan", "7"]
    assert tok[2, 0] == START and (tok[2, 1:] == PAD).all()  # the empty caption: the null condition
    assert torch.equal(tokenize("A Cyan 7"), tok[1:2])       # case does not matter


def test_unknown_words_and_bad_grammar_are_clear_errors():
    with pytest.raises(ValueError) as err:
        tokenize("a purple 3 on a mauve background")
    msg = str(err.value)
    assert "['mauve', 'purple']" in msg and "vocabulary is" in msg and "'magenta'" in msg
    with pytest.raises(ValueError, match="more than the 15"):
        tokenize(" ".join(["a"] * 16))
    with pytest.raises(ValueError, match="does not follow the grammar"):
        parse_caption("red a 3")
    with pytest.raises(ValueError, match="two colours"):
        parse_caption("a red blue 3")
    with pytest.raises(ValueError, match="caption must be a str"):
        tokenize([3])
