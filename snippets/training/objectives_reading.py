"""The reading of the four-objective experiment, checked against its committed record
(docs/training/objectives-cpu.json, written by `python -m tools.train_objectives`).

1. With DPM-Solver++(2M), EDM's preconditioned objective gives the lowest digits-FID at
   NFE 10 and 20, by more than the spread of the two sampling seeds.
2. epsilon- and v-prediction are indistinguishable at NFE >= 10 (their difference is
   within the sampling spread).
3. x0-prediction has by far the largest noise-prediction error at the cleanest levels:
   its head must be divided by sigma to give epsilon, which amplifies its error there.
4. Every objective stays well above the real-vs-real floor: 2500 steps is a small
   budget.
"""

import json
from pathlib import Path

rec = json.loads(Path("docs/training/objectives-cpu.json").read_text())
runs = rec["runs"]


def mean_spread(name, sampler, nfe):
    f = runs[name]["fid"][sampler][str(nfe)]
    return sum(f) / len(f), (max(f) - min(f)) / 2


S = "DPM-Solver++(2M)"
for nfe in (10, 20):
    edm, edm_s = mean_spread("edm", S, nfe)
    for other in ("eps", "v", "x0"):
        m, s = mean_spread(other, S, nfe)
        assert m - edm > edm_s + s, (nfe, other, m, edm)
    runner_up = min(mean_spread(o, S, nfe)[0] for o in ("eps", "v", "x0"))
    print(f"NFE {nfe}: EDM {edm:.2f}, next best {runner_up:.2f}")

for nfe in (10, 20, 50):
    (e, es), (v, vs) = mean_spread("eps", S, nfe), mean_spread("v", S, nfe)
    assert abs(e - v) <= es + vs, (nfe, e, v)
    print(f"NFE {nfe}: eps {e:.2f} +- {es:.2f}, v {v:.2f} +- {vs:.2f}")

clean = {n: r["eps_error"][0]["mse"] for n, r in runs.items()}  # the cleanest level
assert clean["x0"] > 40 * max(clean[n] for n in ("eps", "v", "edm")), clean
print("eps-MSE at the cleanest level:", {n: round(m, 3) for n, m in clean.items()})

floor = rec["real_vs_real"]
best = min(mean_spread(n, S, 50)[0] for n in runs)
assert best > 1.5 * floor, (best, floor)
print(f"best FID at NFE 50 {best:.2f} vs real-vs-real {floor:.2f}")
