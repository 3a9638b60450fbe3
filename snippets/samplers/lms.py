"""LMS: order p needs many steps to show,
and at low NFE it is strong on this mixture.
"""

import numpy as np
import torch
from difflearn import GaussianMixture, NoiseScheduleVP, sample
from difflearn.samplers.lms import lms_coefficients

ns = NoiseScheduleVP("linear")
gm = GaussianMixture(
    [[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2], [0.5, 0.3, 0.2]
)
eps = gm.noise_fn(ns)
x_T = torch.randn(
    256, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
exact = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns)  # scipy, rtol = atol = 1e-10


# the weights: order 2 on an even grid (h = -1) is x + h (3/2 eps_i - 1/2 eps_(i-1))
c = lms_coefficients(np.array([3.0, 2.0, 1.0, 0.0]), order=2)
assert np.allclose(c[1], [-1.5, 0.5]) and np.allclose(c[2], [-1.5, 0.5])


def err(method, steps, skip="karras", **kw):
    return (
        (sample(eps, x_T, ns, method, steps=steps, skip_type=skip, **kw) - exact)
        .norm(dim=1)
        .mean()
        .item()
    )


# measured order between N and 2N steps (logSNR grid): p only once the steps are small
print("order |   N=20->40   40->80  80->160  160->320")
for p in (1, 2, 3, 4):
    e = [err("lms", n, "logSNR", order=p) for n in (20, 40, 80, 160, 320)]
    slopes = np.log2(np.array(e[:-1]) / np.array(e[1:]))
    print(f"  {p}   | " + "  ".join(f"{s:7.2f}" for s in slopes))
    assert abs(slopes[-1] - p) < 0.3

# equal model calls (NFE), Karras grid: one call per step for LMS and DPM-Solver++(2M),
# two for the second-order singlestep samplers
print("NFE | LMS-1 (DDIM)   LMS-4    DPM++(2M)  DPM2     DPM++(2S)")
for nfe in (10, 20, 40):
    row = {
        "lms1": err("lms", nfe, order=1),
        "lms4": err("lms", nfe, order=4),
        "2m": err("dpmsolver++", nfe, order=2),
        "dpm2": err("dpm2_ancestral", nfe // 2, eta=0.0),
        "2s": err("dpmpp_2s_ancestral", nfe // 2, eta=0.0),
    }
    print(f"{nfe:3d} | " + "  ".join(f"{v:.2e}" for v in row.values()))
    assert row["lms4"] < row["2m"] < row["lms1"]
    assert row["2s"] < row["dpm2"]
