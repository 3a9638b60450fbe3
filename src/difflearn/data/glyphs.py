r"""Glyphs: a labelled, captioned 32x32 colour image set, rendered at run time.

The 8x8 digits are too small for an autoencoder to compress into anything; a latent
space needs images with more pixels than information. `load_glyphs` draws them from
what the installed packages ship: the ten digits of the DejaVu Sans Bold font that
matplotlib bundles, each placed on a plain background with a random colour, size,
rotation and position. Nothing is downloaded and nothing is stored: the same seed
gives the same images on every machine with the same font file, and the first `n`
images of a split are the same whatever `n` (they come in chunks of 1,000, each
drawn from its own seeded generator).

Every image has five attributes, drawn independently and uniformly,

| attribute | values | what it sets |
| --- | --- | --- |
| `glyph` | 0 1 2 3 4 5 6 7 8 9 | which digit |
| `colour` | red green blue yellow magenta cyan | the glyph's RGB (+-0.06 jitter) |
| `size` | small large | glyph height 38-48 % or 62-72 % of the image |
| `rotation` | upright, rotated left, rotated right | -8..8, 22..38, -38..-22 degrees |
| `background` | dark light | a grey level in 0.05-0.20 or 0.75-0.90 |

and a position drawn so that the glyph stays inside the frame (not captioned; a
large glyph rotated by more than about 25 degrees is shrunk until it fits). Its
caption (`make_caption`; the grammar is in `difflearn.data.captions`) reads them
out, e.g. "a small red 3, rotated left, on a dark background". 10 x 6 x 2 x 3 x 2 =
720 attribute combinations.

**Rendering.** Each glyph's outline (`matplotlib.textpath.TextPath`) is rasterised
once into a 64x64 coverage mask by the even-odd rule on a 4x supersampled grid. An
image is then one affine resampling of that mask (`grid_sample`: rotation, scale,
translation) at 64x64, averaged down to 32x32 (anti-aliasing), and a blend
$x = b\,(1 - m) + c\,m$ of background $b$ and colour $c$ by the mask $m$, scaled to
$[-1, 1]$.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

IMAGE_SIZE = 32
GLYPHS = tuple("0123456789")
COLOURS = {
    "red": (0.90, 0.12, 0.12),
    "green": (0.10, 0.70, 0.15),
    "blue": (0.15, 0.30, 0.95),
    "yellow": (0.95, 0.85, 0.05),
    "magenta": (0.85, 0.15, 0.85),
    "cyan": (0.05, 0.80, 0.85),
}
SIZES = {"small": (0.38, 0.48), "large": (0.62, 0.72)}  # glyph height / image
ROTATIONS = {"upright": (-8, 8), "left": (22, 38), "right": (-38, -22)}  # degrees
BACKGROUNDS = {"dark": (0.05, 0.20), "light": (0.75, 0.90)}  # grey level
ATTRIBUTES = {
    "glyph": GLYPHS,
    "colour": tuple(COLOURS),
    "size": tuple(SIZES),
    "rotation": tuple(ROTATIONS),
    "background": tuple(BACKGROUNDS),
}
SPLITS = {"train": (20_000, 0), "test": (2_000, 1)}  # (size, seed)
FONT = {"family": "DejaVu Sans", "weight": "bold"}
MASK = 64  # side of a glyph's coverage mask
BOX = 1.25  # the mask spans BOX glyph heights, so rotated glyphs fit


@lru_cache(maxsize=1)
def glyph_aspects() -> torch.Tensor:
    """Width / height of each glyph's outline, `(10,)`."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    prop = FontProperties(**FONT)
    ext = [TextPath((0, 0), ch, size=1, prop=prop).get_extents() for ch in GLYPHS]
    return torch.tensor([e.width / e.height for e in ext], dtype=torch.float32)


@lru_cache(maxsize=1)
def glyph_masks() -> torch.Tensor:
    """`(10, 1, 64, 64)` coverage masks in [0, 1], glyph centred, height 1/BOX."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.path import Path
    from matplotlib.textpath import TextPath

    prop = FontProperties(**FONT)
    sub = 4  # supersampling per axis
    g = (np.arange(MASK * sub) + 0.5) / (MASK * sub) - 0.5  # (-0.5, 0.5)
    X, Y = np.meshgrid(g * BOX, -g * BOX)  # image rows go down
    masks = []
    for ch in GLYPHS:
        path = TextPath((0, 0), ch, size=1, prop=prop)
        ext = path.get_extents()
        cx, cy, h = (ext.x0 + ext.x1) / 2, (ext.y0 + ext.y1) / 2, ext.height
        pts = np.stack([cx + X.ravel() * h, cy + Y.ravel() * h], 1)
        inside = np.zeros(len(pts), bool)
        for poly in path.to_polygons(closed_only=True):  # even-odd: holes stay holes
            inside ^= Path(poly).contains_points(pts)
        m = inside.reshape(MASK, sub, MASK, sub).mean((1, 3))
        masks.append(torch.from_numpy(m.astype(np.float32)))
    return torch.stack(masks)[:, None]


def draw_attributes(n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """`n` independent, uniform draws of every attribute, as `(n,)` int64 indices."""
    return {
        k: torch.randint(0, len(v), (n,), generator=generator)
        for k, v in ATTRIBUTES.items()
    }


def _uniform(ranges, index, generator):
    lo, hi = torch.tensor(ranges, dtype=torch.float32).T  # (K,), (K,)
    u = torch.rand(len(index), generator=generator)
    return lo[index] + (hi[index] - lo[index]) * u


# --8<-- [start:render_glyphs]
def render_glyphs(
    attributes: dict[str, torch.Tensor], generator: torch.Generator
) -> torch.Tensor:
    """Images `(n, 3, 32, 32)` in [-1, 1] of the given attributes; the continuous
    details (exact angle, size, position, colour jitter) are drawn from `generator`.
    """
    glyph = attributes["glyph"]
    n = len(glyph)
    height = _uniform(list(SIZES.values()), attributes["size"], generator)  # (n,)
    angle = _uniform(list(ROTATIONS.values()), attributes["rotation"], generator)
    theta = angle * math.pi / 180  # counter-clockwise on the screen
    # half extents (x, y) of the rotated glyph box per unit height, in [-1, 1] units
    c, s, w = theta.cos().abs(), theta.sin().abs(), glyph_aspects()[glyph]
    extent = torch.stack([w * c + s, w * s + c], 1)  # (n, 2)
    height = torch.minimum(height, 0.9 / extent.amax(1))  # fit, with 1.6 px to spare
    room = (1.0 - extent * height[:, None] - 0.1).clamp(min=0)  # (n, 2)
    centre = (torch.rand(n, 2, generator=generator) * 2 - 1) * room
    # output point p (x right, y down) -> mask point q = R(theta)(p - centre) / scale
    scale = height * BOX
    cos, sin = theta.cos() / scale, theta.sin() / scale
    A = torch.stack([torch.stack([cos, -sin], 1), torch.stack([sin, cos], 1)], 1)
    b = -(A @ centre[:, :, None])  # (n, 2, 1)
    u = (torch.arange(64) + 0.5) / 32 - 1  # pixel centres of a 64x64 grid in [-1, 1]
    p = torch.stack(torch.meshgrid(u, u, indexing="xy"), -1)  # (64, 64, 2): (x, y)
    grid = (
        torch.einsum("nij,hwj->nhwi", A, p) + b[:, None, None, :, 0]
    )  # (n, 64, 64, 2)
    m = F.grid_sample(glyph_masks()[glyph], grid, align_corners=False)
    m = F.avg_pool2d(m, 2)  # (n, 1, 32, 32): 2x2 supersampling
    colour = torch.tensor(list(COLOURS.values()))[attributes["colour"]]  # (n, 3)
    colour = (colour + 0.12 * torch.rand(n, 3, generator=generator) - 0.06).clamp(0, 1)
    grey = _uniform(list(BACKGROUNDS.values()), attributes["background"], generator)
    x = grey[:, None, None, None] * (1 - m) + colour[:, :, None, None] * m
    return x * 2 - 1


# --8<-- [end:render_glyphs]


@dataclass(frozen=True)
class Glyphs:
    """A split of the data set: images, their attributes and their captions."""

    images: torch.Tensor  # (n, 3, 32, 32) in [-1, 1]
    attributes: dict  # name -> (n,) int64 index into ATTRIBUTES[name]
    captions: tuple  # n strings

    def __len__(self) -> int:
        return len(self.images)


def make_caption(attributes: dict[str, int], omit=(False, False, False)) -> str:
    """The caption of one image's attribute indices; `omit` leaves out the size, the
    rotation and the background phrase.
    """
    a = {k: ATTRIBUTES[k][int(v)] for k, v in attributes.items()}
    words = ["a"] + ([a["size"]] if not omit[0] else []) + [a["colour"], a["glyph"]]
    if not omit[1]:
        rot = a["rotation"]
        words.append(", " + (rot if rot == "upright" else f"rotated {rot}"))
    if not omit[2]:
        words.append(f", on a {a['background']} background")
    return " ".join(words).replace(" ,", ",")


CHUNK = 1000  # images drawn from one generator, seeded (seed, chunk index)


@lru_cache(maxsize=64)
def _chunk(seed: int, index: int, omit_p: float) -> Glyphs:
    g = torch.Generator().manual_seed(10_000 * seed + index)
    attrs = draw_attributes(CHUNK, g)
    images = render_glyphs(attrs, g)
    omit = torch.rand(CHUNK, 3, generator=g) < omit_p  # (n, 3): size, rotation, bg
    caps = tuple(
        make_caption({k: int(v[i]) for k, v in attrs.items()}, omit[i].tolist())
        for i in range(CHUNK)
    )
    return Glyphs(images, attrs, caps)


def _make(n: int, seed: int, omit_p: float) -> Glyphs:
    chunks = [_chunk(seed, c, omit_p) for c in range(-(-n // CHUNK))]
    attrs = {k: torch.cat([c.attributes[k] for c in chunks])[:n] for k in ATTRIBUTES}
    caps = tuple(cap for c in chunks for cap in c.captions)[:n]
    return Glyphs(torch.cat([c.images for c in chunks])[:n], attrs, caps)


# --8<-- [start:load_glyphs]
def load_glyphs(split: str = "train", n: int | None = None) -> Glyphs:
    """The `"train"` (20,000 images, seed 0) or `"test"` (2,000, seed 1) split.

    Each caption leaves out the size, the rotation and the background phrase, each
    with probability 0.25 (so 42 % of captions are complete), so that short prompts
    such as "a red 3" are in the training distribution. `n` takes the first `n`
    images (the same ones as in the full split).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {tuple(SPLITS)}, got {split!r}")
    size, seed = SPLITS[split]
    if n is not None and not (isinstance(n, int) and 1 <= n <= size):
        raise ValueError(f"n must be an int in [1, {size}], got {n!r}")
    return _make(size if n is None else n, seed, 0.25)


# --8<-- [end:load_glyphs]


__all__ = [
    "ATTRIBUTES",
    "BACKGROUNDS",
    "COLOURS",
    "GLYPHS",
    "IMAGE_SIZE",
    "ROTATIONS",
    "SIZES",
    "SPLITS",
    "Glyphs",
    "draw_attributes",
    "make_caption",
    "glyph_masks",
    "load_glyphs",
    "render_glyphs",
]
