"""The reading of the editing measurements, checked against their committed record
(docs/editing/editing-cpu.json, made by `python -m benchmarks.editing`).

1. SDEdit: strength 0.1 halves the guides' FID; from 0.3 on, most digits change class.
2. Inpainting: at the same 250 model calls, RePaint's resampling lowers the FID by a
   quarter and keeps the digit more often, but leaves the border gap within 0.01 of
   replacement's, both above the real digits' gap.
3. DDIM inversion: the round trip falls with the steps and grows with guidance.
4. Null-text inversion at the rate used here (0.1) brings every guided round trip below
   the unguided one (w = 1); at the paper's rate (0.01) it still lowers each, less.
5. DiffEdit changes nothing outside its mask; unmasked SDEdit succeeds more often but
   changes the whole image.
"""

import json
from pathlib import Path

r = json.loads(Path("docs/editing/editing-cpu.json").read_text())
sd = {row["strength"]: row for row in r["sdedit"]}
assert sd[0.1]["fid"] < 0.5 * sd[0.0]["fid"]
assert sd[0.3]["kept_class"] < 0.5 * sd[0.0]["kept_class"]
print(f"SDEdit FID: guides {sd[0.0]['fid']:.0f}, s=0.1 {sd[0.1]['fid']:.0f}")

rows = {row["method"]: row for row in r["inpainting"]["rows"]}
plain, rp = rows["replacement, 250 steps"], rows["RePaint r=5, jump 1, 50 steps"]
assert plain["model_calls"] == rp["model_calls"]
assert rp["fid"] < 0.75 * plain["fid"] and rp["kept_class"] > plain["kept_class"]
assert abs(rp["border_gap"] - plain["border_gap"]) < 0.01
assert min(rp["border_gap"], plain["border_gap"]) > r["inpainting"]["real_border_gap"]
print(f"inpainting FID: replacement {plain['fid']:.1f}, RePaint {rp['fid']:.1f}")

steps = [row["round_trip"] for row in r["inversion_steps"]]
assert steps == sorted(steps, reverse=True)
guided = {row["scale"]: row for row in r["inversion_guidance"]}
trips = [guided[w]["round_trip"] for w in sorted(guided)]
assert trips == sorted(trips)
for w in (2.0, 3.0, 5.0):
    assert guided[w]["null_text"] < guided[1.0]["round_trip"] < guided[w]["round_trip"]
    assert (
        guided[w]["null_text"]
        < guided[w]["null_text_lr_1e-2"]
        < guided[w]["round_trip"]
    )
print("round trip vs scale:", [f"{t:.3f}" for t in trips])

for row in r["diffedit"]:
    assert row["change_outside"] < 1e-6 < row["sdedit_change_outside"]
    assert row["sdedit_success"] >= row["success"]
print("DiffEdit success:", [row["success"] for row in r["diffedit"]])
