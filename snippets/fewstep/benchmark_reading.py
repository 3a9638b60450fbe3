"""The reading of the few-step benchmark, checked against its committed record, and one
cell measured again from the shipped `digits-cd`.

1. At one and two model calls the best few-step model beats the teacher's best solver.
2. At eight calls the teacher's best solver beats every few-step model.
3. The teacher at 20 calls is the best cell of the table.
4. Reflow straightens the digit flow more than tenfold; the one-step 1-rectified flow
   collapses (class entropy under 1 bit), and at two calls every model is diverse.
   Every few-step model ran a fraction of its training spec (the session's time).
5. The shipped digits-cd (float16 weights) gives back the record's one-call FID.
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
for calls in ("1", "2"):
    best = min(f[int(calls)] for f in fid.values() if int(calls) in f)
    print(
        f"{calls} call(s): best student {best:.1f}, teacher {teacher[calls]['fid']:.1f}"
    )
    assert best < teacher[calls]["fid"]
assert all(f[8] > teacher["8"]["fid"] for f in fid.values() if 8 in f)
cells = [c for f in fid.values() for c in f.values()]
assert teacher["20"]["fid"] < min(cells + [teacher[k]["fid"] for k in "1248"])
S = record["digits"]["straightness"]
assert S["2-rectified flow (reflow)"]["mean"] < S["1-rectified flow"]["mean"] / 10
assert rows["1-rectified flow"]["1"]["entropy_bits"] < 1.0
assert all(r["2"]["entropy_bits"] > 3.0 for r in rows.values())
costs = record["training"]
students = [c for name, c in costs.items() if "teacher" not in name]
assert all(c["fraction"] < 1 for c in students)

# 5. one cell again: consistency sampling with one call, the same x_T
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
