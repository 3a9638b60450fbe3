"""Exercise: how much more of the image does a large glyph cover than a small one?

The area of a glyph scales with its height squared, and heights are uniform on
[a, b]: E[h^2] = (a^2 + a b + b^2) / 3. For upright glyphs (never shrunk to fit) the
ratio of mean coverage is E[h_large^2] / E[h_small^2], whatever the glyph shapes, as
long as both sizes see the same glyphs.
"""

import torch
from difflearn.data import render_glyphs
from difflearn.data.glyphs import ATTRIBUTES, COLOURS, SIZES

n = 4000
glyph = torch.arange(n) % 10
coverage = {}
for size in SIZES:
    attrs = {
        "glyph": glyph,
        "colour": torch.zeros(n, dtype=torch.long),  # red on dark: coverage from red
        "size": torch.full((n,), ATTRIBUTES["size"].index(size)),
        "rotation": torch.zeros(n, dtype=torch.long),  # upright
        "background": torch.zeros(n, dtype=torch.long),
    }
    x = (render_glyphs(attrs, torch.Generator().manual_seed(0)) + 1) / 2
    bg = x[:, :, 0, 0]  # the corner is background, (n, 3)
    m = (x[:, 0] - bg[:, 0, None, None]) / (COLOURS["red"][0] - bg[:, 0, None, None])
    coverage[size] = float(
        m.clamp(0, 1.2).mean()
    )  # colour jitter: allow m slightly > 1


def mean_h2(a, b):
    return (a * a + a * b + b * b) / 3


expected = mean_h2(*SIZES["large"]) / mean_h2(*SIZES["small"])
ratio = coverage["large"] / coverage["small"]
print(f"coverage {coverage}; ratio {ratio:.3f}, predicted {expected:.3f}")
assert abs(ratio / expected - 1) < 0.03
