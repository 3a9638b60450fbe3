"""Caption accuracy and glyph KID against the guidance scale, read from the committed
record (docs/modern/results/latent-experiments.json, by tools.latent_experiments).

1. s = 0 (the empty caption) is at chance: all five right about 1/720 of the time.
2. s = 1 gets colour and background right almost always, all five far less often.
3. Accuracy grows up to s = 6; at s = 9 the UNet's colour accuracy drops.
4. The KID is lowest at a small scale (2 for the UNet, 1 for the DiT) and higher at 9.
"""

import json
from pathlib import Path

r = json.loads(Path("docs/modern/results/latent-experiments.json").read_text())
for name, g in r["guidance"].items():
    rows = {row["scale"]: row for row in g["rows"]}
    acc = {s: row["accuracy"] for s, row in rows.items()}
    kid = {s: row["kid"] for s, row in rows.items()}
    assert acc[0.0]["all"] < 0.005  # chance: 1/720 = 0.0014
    assert acc[1.0]["colour"] > 0.85 and acc[1.0]["background"] > 0.95
    assert acc[1.0]["all"] < 0.35
    assert acc[0.0]["all"] < acc[1.0]["all"] < acc[3.0]["all"] < acc[6.0]["all"]
    best = min(kid, key=kid.get)
    assert best == {"unet-vp": 2.0, "dit-flow": 1.0}[name] and kid[9.0] > 2 * kid[best]
    print(
        f"{name}: all five {acc[1.0]['all']:.2f} at s=1, {acc[6.0]['all']:.2f} at s=6; "
        f"lowest KID at s={best:g}"
    )
unet = {row["scale"]: row["accuracy"] for row in r["guidance"]["unet-vp"]["rows"]}
assert unet[9.0]["colour"] < unet[6.0]["colour"] - 0.05
six, nine = unet[6.0]["colour"], unet[9.0]["colour"]
print(f"UNet colour accuracy: {six:.2f} at s=6, {nine:.2f} at s=9")
