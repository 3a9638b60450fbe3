"""Exercise: where does the shifted schedule cross SNR = 1?

On the straight path SNR = 1 at t = 1/2. After the shift t -> a t / (1 + (a - 1) t) the
crossing is where the shifted time is 1/2: a t = (1 + (a - 1) t) / 2, t* = 1 / (a + 1).
With SD3's a = 3: t* = 0.25 — three quarters of a uniform grid now lies at SNR < 1.
Reference: the library's shift_t, solved numerically by bisection.
"""

import torch
from difflearn.schedules import shift_t

for a in (1.0, 3.0, 6.0):
    lo, hi = 0.0, 1.0
    for _ in range(60):  # bisection on shift_t(t) = 1/2
        mid = (lo + hi) / 2
        lo, hi = (
            (mid, hi)
            if shift_t(torch.tensor(mid, dtype=torch.float64), a) < 0.5
            else (lo, mid)
        )
    print(
        f"shift {a:g}: SNR = 1 at t = {lo:.6f} "
        f"(predicted 1/(a + 1) = {1 / (a + 1):.6f})"
    )
    assert abs(lo - 1 / (a + 1)) < 1e-12
