"""Exercise: predict the UNet's structure from its constructor arguments, then check.

With L = len(channel_mult) levels and R = num_res_blocks:
- input blocks: 1 (the first conv) + L R ResBlocks + (L - 1) downsamplers, each pushing
  one skip;
- output blocks: L (R + 1), each popping one skip, so the two counts must agree;
- the middle block works at image_size / 2^(L - 1) pixels with channel_mult[-1] * C
  channels;
- time_embed (Linear C -> 4C, SiLU, Linear 4C -> 4C) has 20 C^2 + 8 C parameters.
"""

import torch
from difflearn import UNetModel

C, R, mult, size = 32, 2, (1, 2, 2, 4), 32
L = len(mult)
model = UNetModel(
    image_size=size,
    in_channels=3,
    model_channels=C,
    out_channels=6,
    num_res_blocks=R,
    attention_resolutions=(4,),
    channel_mult=mult,
)
shapes = []
model.middle_block.register_forward_pre_hook(
    lambda m, args: shapes.append(args[0].shape)
)
with torch.no_grad():
    out = model(torch.zeros(2, 3, size, size), torch.tensor([10.0, 500.0]))

n_in, n_out = len(model.input_blocks), len(model.output_blocks)
n_time = sum(p.numel() for p in model.time_embed.parameters())
print(
    f"input blocks {n_in}, output blocks {n_out}, "
    f"middle block input {tuple(shapes[0])}, "
    f"time_embed parameters {n_time}"
)
assert n_in == 1 + L * R + (L - 1) and n_out == L * (R + 1) and n_in == n_out
assert shapes[0] == (2, mult[-1] * C, size // 2 ** (L - 1), size // 2 ** (L - 1))
assert n_time == 20 * C * C + 8 * C
assert out.shape == (2, 6, size, size)  # learn_sigma-style: 2 x 3 channels
