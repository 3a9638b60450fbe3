"""The reading of the latent experiments, checked against their committed record
(docs/modern/results/latent-experiments.json, by `python -m tools.latent_experiments`).

1. References: real test images score a KID of zero against other real ones, and so do
   the autoencoder's reconstructions.
2. Backbones (16 calls): the DiT does about half the UNet's FLOPs and slightly less CPU
   time per step; at this budget the UNet follows the captions better under both
   objectives, and the MMDiT trails the DiT.
3. Objectives: the flows follow the captions better than VP noise prediction for both
   backbones; at 2 calls they keep much more (accuracy and KID); by 8 calls every curve
   is within 0.05 of its accuracy at 32; the VP UNet has the best KID.
4. Scaling factor: without it the DiT follows its captions about half as often.
"""

import json
from pathlib import Path

r = json.loads(Path("docs/modern/results/latent-experiments.json").read_text())
ref, grid = r["reference"], r["grid"]
DEFAULT = {"vp": "DPM-Solver++(2M)", "flow": "Euler"}


def at(name, nfe, sampler=None):
    """The row of a variant at `nfe` calls, with its objective's default sampler."""
    rows = grid[name]["quality"][sampler or DEFAULT[grid[name]["objective"]]]
    return next(row for row in rows if row["nfe"] == nfe)


# 1. the floor: within one standard error (about 0.002 at 1,000 images) of zero
assert r["n"] == 1000 and not r["quick"]
assert (
    abs(ref["real_vs_real_kid"]) < 0.004
    and abs(ref["reconstructed_vs_real_kid"]) < 0.004
)

# 2. backbones
unet, dit = grid["unet-vp"], grid["dit-vp"]
assert dit["mflops_per_forward"] < 0.6 * unet["mflops_per_forward"]
for obj in ("vp", "flow"):
    u, d = grid[f"unet-{obj}"], grid[f"dit-{obj}"]
    assert d["cpu_s_per_step_500_guided"] < u["cpu_s_per_step_500_guided"]
    assert at(f"unet-{obj}", 16)["caption_all"] > at(f"dit-{obj}", 16)["caption_all"]
assert at("mmdit-flow", 16)["caption_all"] < at("dit-flow", 16)["caption_all"]
print(
    "caption accuracy at 16 calls:",
    {
        k: at(k, 16)["caption_all"]
        for k in ("unet-vp", "unet-flow", "dit-vp", "dit-flow", "mmdit-flow")
    },
)

# 3. objectives
for b in ("unet", "dit"):
    vp, flow = f"{b}-vp", f"{b}-flow"
    assert at(flow, 16)["caption_all"] > at(vp, 16)["caption_all"]
    assert at(flow, 2)["caption_all"] > at(vp, 2)["caption_all"] + 0.1
    assert at(flow, 2)["kid"] < at(vp, 2)["kid"]
for name, v in grid.items():
    for label, rows in v["quality"].items():
        final = rows[-1]["caption_all"]
        assert all(
            abs(row["caption_all"] - final) < 0.05 for row in rows if row["nfe"] >= 8
        ), (name, label)
best = min((at(k, 16)["kid"], k) for k in grid)
assert best[1] == "unet-vp", best
print(f"best KID at 16 calls: {best[1]} ({1000 * best[0]:.1f} x 1e-3)")

# 4. the scaling factor
for sampler in ("DDIM", "DPM-Solver++(2M)"):
    for nfe in (8, 16, 32):
        scaled = at("dit-vp", nfe, sampler)["caption_all"]
        unscaled = at("dit-vp-unscaled", nfe, sampler)["caption_all"]
        assert scaled > 1.5 * unscaled, (sampler, nfe, scaled, unscaled)
print(
    "DiT, VP, 16 calls: caption accuracy",
    at("dit-vp", 16)["caption_all"],
    "scaled vs",
    at("dit-vp-unscaled", 16)["caption_all"],
    "unscaled",
)
