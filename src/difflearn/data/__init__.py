r"""Data: the exact Gaussian-mixture oracle, scikit-learn's digits and 2-D point clouds.

- `difflearn.data.mixture`: `GaussianMixture`, with exact scores, noise and $x_0$
  predictions, PF-ODE solves
- `difflearn.data.digits`: the 1,797 bundled 8x8 digits in $[-1, 1]$, and a seeded split
- `difflearn.data.toy2d`: moons, swiss roll and checkerboard point clouds, for pictures
- `difflearn.data.glyphs`, `difflearn.data.captions`: 32x32 colour glyph images rendered
  from a bundled font, their attributes, captions, vocabulary and tokenizer
"""

from .captions import VOCAB, make_caption, parse_caption, tokenize
from .digits import NUM_CLASSES, SIZES, load_digits, split
from .glyphs import ATTRIBUTES, Glyphs, load_glyphs, render_glyphs
from .mixture import MIXTURES_2D, GaussianMixture, mixture_2d
from .toy2d import checkerboard, moons, swiss_roll

__all__ = [
    "ATTRIBUTES",
    "Glyphs",
    "VOCAB",
    "load_glyphs",
    "make_caption",
    "parse_caption",
    "render_glyphs",
    "tokenize",
    "MIXTURES_2D",
    "NUM_CLASSES",
    "SIZES",
    "GaussianMixture",
    "checkerboard",
    "load_digits",
    "mixture_2d",
    "moons",
    "split",
    "swiss_roll",
]
