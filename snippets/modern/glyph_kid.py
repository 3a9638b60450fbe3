"""The glyph FID is mostly bias at a few hundred images; the glyph KID is not.

Two halves of the real test images come from one distribution, so the true distance
between them is zero. The FID of the halves falls like 1/n as they grow; the KID stays
near zero at every size, while shuffled pixels are far away by either measure.
"""

import torch
from difflearn import pretrained
from difflearn.data import load_glyphs
from difflearn.glyph_metrics import glyph_fid, glyph_kid

reader = pretrained.load("glyphs-reader")[0]
real = load_glyphs("test").images  # 2,000 images
for n in (250, 500, 1000):
    a, b = real[:n], real[n : 2 * n]
    fid, kid = glyph_fid(a, b, reader), glyph_kid(a, b, reader)
    print(f"real vs real, {n:4d} a half: FID {fid:6.1f}, KID x 1000 {1000 * kid:5.1f}")
    if n == 250:
        fid_250 = fid
    # zero, up to its noise: its standard deviation over disjoint pairs of halves is
    # about 0.015, 0.005 and 0.002 at these sizes
    assert abs(kid) < 0.03
print(f"FID at 250 / FID at 1000 = {fid_250 / fid:.1f} (the bias, about 1/n)")
assert fid_250 > 3 * fid

perm = torch.randperm(3072, generator=torch.Generator().manual_seed(0))
shuffled = real[:500].flatten(1)[:, perm].reshape(500, 3, 32, 32)
kid_far = glyph_kid(shuffled, real[500:1000], reader)
print(f"shuffled pixels vs real: KID x 1000 {1000 * kid_far:.0f}")
assert kid_far > 0.3
