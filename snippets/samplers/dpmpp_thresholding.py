# Dynamic thresholding (Imagen): clip x0 predictions at a per-sample quantile s, then
# divide by s.
import torch
from difflearn.samplers.dpm_solver import dynamic_thresholding

x0 = torch.tensor(
    [
        [0.2, -0.5, 0.9, 0.1],  # inside [-1, 1]: s = max(quantile, 1) = 1, unchanged
        [3.0, -6.0, 1.0, 0.5],
    ]
)  # outside: clipped at s and rescaled into [-1, 1]
out = dynamic_thresholding(x0, ratio=0.75, max_val=1.0)
s = torch.quantile(x0[1].abs(), 0.75)
assert torch.equal(out[0], x0[0])
assert torch.allclose(out[1], x0[1].clamp(-s, s) / s) and out.abs().max() <= 1
print(out)
