"""The shipped digits model with its cached optimised grid: 5 model calls, and a warning
if the grid is used with other weights.
"""

import warnings

import torch
from difflearn import model_wrapper, sample
from difflearn.data import load_digits, split
from difflearn.metrics import digits_fid
from difflearn.pretrained import load
from difflearn.samplers import GridMismatchWarning, list_grids, load_grid
from difflearn.samplers.grid_cache import WEIGHTS

model, ns, _ = load("digits-uncond")
calls = []
eps = model_wrapper(model, ns)


def counted(x, t):
    calls.append(1)
    return eps(x, t)


print(
    [(e["method"], e["sampler_kwargs"], e["nfe"]) for e in list_grids("digits-uncond")]
)
grid = load_grid("digits-uncond", "unipc", 5)  # float64 times, t = 1 ... 1e-3
real, _ = load_digits(8)
a, b = split(len(real), 0.5, seed=0)
x_T = torch.randn(len(b), 1, 8, 8, generator=torch.Generator().manual_seed(0))
with torch.no_grad():
    x_opt = sample(counted, x_T, ns, "unipc", timesteps=grid)
    x_log = sample(eps, x_T, ns, "unipc", steps=5, skip_type="logSNR")
assert len(calls) == 5
fid = {"optimised": digits_fid(real[a], x_opt), "logSNR": digits_fid(real[a], x_log)}
print("UniPC, NFE 5, digits-FID:", {k: round(v, 2) for k, v in fid.items()})
assert fid["optimised"] < 15 < fid["logSNR"]

# the grid was optimised for digits-uncond: with other weights, a clear warning
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    load_grid("digits-uncond", "unipc", 5, weights=WEIGHTS / "digits-cond.safetensors")
assert any(issubclass(w.category, GridMismatchWarning) for w in caught)
print(caught[0].message)
