"""Exercise: the sinusoidal time embedding only sees time differences.

With e(t) = [cos(w_k t), sin(w_k t)]_k, cos a cos b + sin a sin b = cos(a - b) gives
    e(t) . e(t') = sum_k cos(w_k (t - t')),   |e(t)|^2 = d / 2,
so the inner product of two embeddings depends on t - t' only. Capture the embedding the
network really computes (the input of its time_embed MLP, by a forward hook) and compare
with the closed form, w_k = 10000^(-2k/d).
"""

import numpy as np
import torch
from difflearn import UNetModel

d = 64
model = UNetModel(
    image_size=16,
    in_channels=1,
    model_channels=d,
    out_channels=1,
    num_res_blocks=1,
    attention_resolutions=(),
    channel_mult=(1, 2),
)
captured = []
model.time_embed.register_forward_pre_hook(lambda mod, args: captured.append(args[0]))
t = torch.tensor([0.0, 3.0, 250.0, 253.0, 999.0])
with torch.no_grad():
    model(torch.zeros(len(t), 1, 16, 16), t)
e = captured[0].double().numpy()  # (5, d)

w = 10000.0 ** (-2 * np.arange(d // 2) / d)
gram = np.array([[np.cos(w * (a - b)).sum() for b in t.tolist()] for a in t.tolist()])
print(
    f"|e(t)|^2 = {np.round((e * e).sum(1), 4)} (d/2 = {d // 2}); "
    f"e(0).e(3) = {e[0] @ e[1]:.4f}, e(250).e(253) = {e[2] @ e[3]:.4f}"
)
assert np.allclose(e @ e.T, gram, atol=1e-3)
assert abs(e[0] @ e[1] - e[2] @ e[3]) < 1e-3  # same difference, same value
