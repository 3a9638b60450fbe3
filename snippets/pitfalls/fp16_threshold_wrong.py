"""WRONG: dynamic thresholding written for float32, run on a float16 model output.

torch.quantile only accepts float32 and float64, so the percentile step of Imagen's
dynamic thresholding (as written in the official DPM-Solver code) raises on
half-precision tensors.
"""

import torch


def dynamic_thresholding_naive(x0, ratio=0.995, max_val=1.0):
    s = torch.quantile(
        x0.abs().reshape(x0.shape[0], -1), ratio, dim=1
    )  # no upcast: WRONG
    s = torch.clamp(s, min=max_val).reshape(-1, 1, 1, 1)
    return torch.clamp(x0, -s, s) / s


x0 = (
    2.5 * torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(0))
).half()  # (B, C, H, W)
try:
    dynamic_thresholding_naive(x0)
except RuntimeError as err:
    print("RuntimeError:", err)
    assert "quantile" in str(err)
else:
    raise AssertionError("expected torch.quantile to reject float16")
