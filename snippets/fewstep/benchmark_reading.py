"""The reading of the few-step benchmark, checked against its committed record, and one
cell measured again from the shipped `digits-cd`.

1. At one and two model calls every few-step model but iCT beats the teacher's best
   solver, and the reflowed flow is the best of them.
2. At eight calls the teacher's best solver beats every few-step model but the reflowed
   flow, which is level with it: the two differ by less than a draw of x_T moves either.
3. The teacher at 20 calls is the best cell of the table.
4. Reflow straightens the digit flow more than tenfold; the one-step 1-rectified flow
   collapses (class entropy under 1 bit), and at two calls every model is diverse.
5. A second consistency call helps distillation; for iCT every extra call hurts.
6. Every few-step model ran its full training spec.
7. The shipped digits-cd (float16 weights) gives back the record's one-call FID.
"""

import json
from pathlib import Path

import torch
from difflearn import model_wrapper, pretrained
from difflearn.data import load_digits, split
from difflearn.fewstep import (
    consistency_model_fn,
    consistency_sampling,
    consistency_timesteps,
)
from difflearn.metrics import digits_fid

record = json.loads(Path("docs/fewstep/benchmark-cpu.json").read_text())
rows = record["digits"]["rows"]
teacher = rows.pop("teacher (best ODE solver)")
fid = {name: {int(k): c["fid"] for k, c in r.items()} for name, r in rows.items()}
reflow, cd = fid["2-rectified flow (reflow)"], fid["consistency distillation"]
distilled = [reflow, cd, fid["progressive distillation"]]
for calls in (1, 2):
    worst = max(f[calls] for f in distilled)
    print(f"{calls} call(s): teacher {teacher[str(calls)]['fid']:.1f}, ", end="")
    print(f"distilled {min(f[calls] for f in distilled):.1f} to {worst:.1f}")
    assert worst < teacher[str(calls)]["fid"]
    assert reflow[calls] == min(f[calls] for f in fid.values())
# 2. at eight calls: level with reflow, ahead of the others
spread = record["digits"]["seed_spread"]
sd = max(v["sd"] for v in spread.values())
print(f"8 calls: teacher {teacher['8']['fid']:.2f}, reflow {reflow[8]:.2f}, ", end="")
print(f"one draw of x_T moves a cell by {sd:.2f} (standard deviation)")
assert abs(reflow[8] - teacher["8"]["fid"]) < sd
assert all(f[8] > teacher["8"]["fid"] + sd for f in fid.values() if f is not reflow)
# 3. the teacher at 20 calls
cells = [c for f in fid.values() for c in f.values()]
assert teacher["20"]["fid"] < min(cells + [teacher[k]["fid"] for k in "1248"])
# 4. straightness and diversity
S = record["digits"]["straightness"]
assert S["2-rectified flow (reflow)"]["mean"] < S["1-rectified flow"]["mean"] / 10
assert rows["1-rectified flow"]["1"]["entropy_bits"] < 1.0
assert all(r["2"]["entropy_bits"] > 3.0 for r in rows.values())
# 5. more consistency calls
ict = fid["consistency training (iCT)"]
assert cd[2] < cd[1] and ict[1] < min(ict[2], ict[4], ict[8])
# 6. full training specs
costs = record["training"]
assert all(c["fraction"] == 1 for c in costs.values())
# ring8: distance to the exact map at one call, and the likelihood of more CD calls
ring = record["mixture"]["rows"]
exact = ring.pop("exact teacher (best ODE solver)")
one = {name: r["1"]["map_error"] for name, r in ring.items()}
best = sorted(one, key=one.get)
print("ring8, one call:", ", ".join(f"{name} {one[name]:.3f}" for name in best[:2]))
assert best[0] == "consistency distillation"
assert exact["8"]["map_error"] < one[best[0]] < exact["4"]["map_error"]
assert (
    ring["consistency distillation"]["2"]["nll"]
    > ring["consistency distillation"]["1"]["nll"]
)

# 7. one cell again: consistency sampling with one call, the same x_T
net, ns, card = pretrained.load("digits-cd")
real, _ = load_digits(8)
a, b = split(len(real), 0.5, seed=0)
x_T = torch.randn(len(b), 1, 8, 8, generator=torch.Generator().manual_seed(0))
cm = consistency_model_fn(model_wrapper(net, ns, model_type="v"), ns, card["sigma_min"])
with torch.no_grad():
    x = consistency_sampling(
        cm,
        x_T,
        ns,
        consistency_timesteps(ns, 1),
        generator=torch.Generator().manual_seed(1),
    )
again, recorded = digits_fid(real[a], x), rows["consistency distillation"]["1"]["fid"]
print(f"digits-cd, one call: FID {again:.2f} now, {recorded:.2f} in the record")
assert abs(again - recorded) < 0.05 * recorded
